"""Per-request (or per-WebSocket) context: services, the caller's identity, DB sessions."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from spek.accounts import service as accounts
from spek.accounts.models import User
from spek.web.services import Services


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
            self.user_id = self.services.access_tokens.authenticate(self.request.headers.get("authorization"))
        return self.user_id

    async def current_user(self, session: AsyncSession) -> User:
        return await accounts.get_user(session, self.authenticate())

    @asynccontextmanager
    async def signed_in(self) -> AsyncIterator[tuple[AsyncSession, User]]:
        """Every signed-in resolver's start: a session, and the caller (UNAUTHENTICATED if none)."""
        async with self.session() as session:
            yield session, await self.current_user(session)

    def absolute_url(self, path: str) -> str:
        """Links that work outside the web app too (mobile apps, a shared download)."""
        return str(self.request.base_url).rstrip("/") + path


Info = StrawberryInfo[Context, None]
