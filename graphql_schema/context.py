"""Per-request (or per-WebSocket) context: services, the caller's identity, DB sessions."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from spek.accounts import service as accounts
from spek.accounts.models import User
from spek.accounts.tokens import AccessTokens, bearer_token
from spek.errors import Unauthenticated
from spek.links import SignedLinks
from spek.settings import Settings
from spek.storage import Storage


@dataclass
class Services:
    """What the API holds for its lifetime; built once at start-up."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis  # Redis, plus enqueueing ARQ jobs
    token_policy: accounts.TokenPolicy
    storage: Storage
    links: SignedLinks  # audioUrl, exportTranscript

    @property
    def access_tokens(self) -> AccessTokens:
        return self.token_policy.access


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None
    # Set by Strawberry from the WebSocket connection_init payload.
    connection_params: dict[str, Any] | None = None
    user_id: uuid.UUID | None = field(default=None)

    def session(self) -> AsyncSession:
        return self.services.sessionmaker()

    def authenticate(self) -> uuid.UUID:
        """The caller's user id, from the WebSocket handshake or the HTTP Bearer header."""
        if self.user_id is None:
            token = bearer_token(self.request.headers.get("authorization"))
            if token is None:
                raise Unauthenticated("Sign in first: send `Authorization: Bearer <accessToken>`.")
            self.user_id = self.services.access_tokens.verify(token)
        return self.user_id

    async def current_user(self, session: AsyncSession) -> User:
        return await accounts.get_user(session, self.authenticate())


Info = StrawberryInfo[Context, None]
