"""The ASGI GraphQL endpoint: context per request, WebSocket auth, CSRF for multipart uploads, bounded
bodies, and every refused request answered in JSON with a code."""

import json
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult

from graphql_schema.context import Context
from graphql_schema.errors import error_response, with_code
from graphql_schema.graphiql import GRAPHIQL_HTML
from graphql_schema.json_operations import is_json_post, json_operation, run
from graphql_schema.multipart import operations_with_files
from graphql_schema.request_body import LimitedBody, UnreadableJSON, decode_json
from graphql_schema.schema import SpekSchema
from spek.errors import Unauthenticated
from spek.web.services import Services

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-graphql-preflight")


class SpekGraphQL(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, *, max_request_bytes: int, **options: Any) -> None:
        super().__init__(schema, **options)
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        # Strawberry's HTTP handling, plus closing the request at the end: a multipart upload's files are
        # spooled to deleted temporary files that would stay open (disk and descriptors held) until a
        # garbage collection, refused or not.
        # Every refusal is JSON in the shape of a GraphQL response, with a code (Strawberry's is plain text).
        body = LimitedBody(scope, receive, self.max_request_bytes)
        request = Request(scope=scope, receive=body.receive)
        try:
            try:
                body.check_declared_length()
                response = None
                if is_json_post(scope["method"], body.media_type, body.accept):
                    # Strawberry's view, if the short path declines, reads the same bytes from `body`.
                    response = await self.run_json_operation(await body.read(), request)
                response = response or await self.run(request)
            except HTTPException as e:
                await body.discard_rest()
                response = error_response(e.status_code, e.reason)
            await response(scope, receive, send)
        finally:
            await request.close()

    async def run_json_operation(self, body: bytes, request: Request) -> Response | None:
        """A query or mutation posted as JSON, on the short path; None for Strawberry's view to handle."""
        try:
            data = self.decode_json(body)
        except json.JSONDecodeError:
            return None
        schema = cast(SpekSchema, self.schema)
        operation = json_operation(data, schema._schema, schema.document_limits)
        if operation is None:
            return None
        return await run(operation, schema._schema, await self.get_context(request, None))

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        services: Services = request.app.state.services
        return Context(services=services, request=request, response=response)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page loads its scripts from a CDN; this one loads them from Spek (works offline).
        return HTMLResponse(GRAPHIQL_HTML)

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
        try:
            form = await request.get_form_data()
        except StarletteHTTPException as e:  # what python-multipart could not read
            raise HTTPException(e.status_code, f"Malformed multipart request: {e.detail}") from None
        # On Starlette the form is Starlette's FormData: fields and file parts in order.
        return operations_with_files(cast(FormData, form.form), self.decode_json)

    def decode_json(self, data: str | bytes) -> object:
        # Also every WebSocket message's: there the limit is on each message.
        return decode_json(data, self.max_request_bytes)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = self.decode_json(data)
        except UnreadableJSON as e:
            raise HTTPException(400, e.reason) from None
        except json.JSONDecodeError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        # A list is a batch (refused by Strawberry with its reason); anything else is no request at all.
        if not isinstance(value, dict | list):
            raise HTTPException(400, f"Expected a JSON object, got {json.dumps(value)[:20]}.")
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        # Strawberry checks the type of `query`, `variables` and `extensions`, not this one's.
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return data
