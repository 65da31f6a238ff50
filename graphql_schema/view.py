"""The ASGI GraphQL endpoint: context per request, WebSocket auth, CSRF for multipart uploads."""

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graphql_schema.context import Context
from graphql_schema.errors import with_code
from spek.errors import Unauthenticated
from spek.web.services import Services

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-graphql-preflight")


class SpekGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        services: Services = request.app.state.services
        return Context(services=services, request=request, response=response)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Syntax errors are answered before the schema's extensions run: code them here too.
        if result.errors:
            result.errors = [with_code(error) for error in result.errors]
        return await super().process_result(request, result)

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate the socket from connection_init, before any subscription can start."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("Authorization") or params.get("authorization")
        try:
            context.user_id = context.services.access_tokens.authenticate(authorization)
        except Unauthenticated as e:
            raise ConnectionRejectionError({"message": f"connection_init payload: {e.message}"}) from None

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        # A browser cannot send these headers cross-site without a CORS preflight: that is the CSRF guard.
        if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
            raise HTTPException(
                400,
                "Multipart requests need a non-empty `Apollo-Require-Preflight` or `X-GraphQL-Preflight` header.",
            )
        return await super().parse_multipart(request)
