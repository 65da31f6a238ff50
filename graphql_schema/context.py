"""Per-request (or per-WebSocket) context: services, the caller's identity, DB sessions."""

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from spek.accounts import service as accounts
from spek.accounts.callers import deleted_marker
from spek.accounts.models import User
from spek.ratelimits import client_address
from spek.web.services import Services

T = TypeVar("T")


@dataclass
class Context:
    services: Services
    request: Request | WebSocket
    response: Response | WebSocket | None
    # Set by Strawberry from the WebSocket connection_init payload.
    connection_params: dict[str, Any] | None = None
    user_id: uuid.UUID | None = field(default=None)
    # Counted against the global cap and the caller's request limit once per request (or connection).
    _counted: bool = field(default=False, repr=False)
    _user_counted: bool = field(default=False, repr=False)

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
    async def signed_in(self, limit: str | None = None) -> AsyncIterator[tuple[AsyncSession, User]]:
        """Every signed-in resolver's start: a session, and the caller (UNAUTHENTICATED if none), within the
        caller's request limit, the global cap and `limit` (e.g. "uploads", per user) if named."""
        user_id = self.authenticate()
        hits = [] if self._user_counted else [("requests", str(user_id))]
        self._user_counted = True
        if limit is not None:
            hits.append((limit, str(user_id)))
        [marker] = await self._count_request(*hits, reads=[deleted_marker(user_id)])
        async with self.session() as session:
            yield session, await self.services.callers.get(session, user_id, marker)

    async def subscribed(self, follow: Callable[[AsyncSession, User], AsyncIterator[T]]) -> AsyncIterator[T]:
        """A subscription's events for the signed-in caller (`follow` checks access and may close the session
        early, so a long stream holds no database connection)."""
        session = self.session()
        try:
            user = await self.current_user(session)
            async for event in follow(session, user):
                yield event
        finally:
            await session.close()

    def client_address(self) -> str:
        client = self.request.client
        return client_address(
            client.host if client else None,
            self.request.headers.get("x-forwarded-for"),
            self.services.settings.trusted_proxy_networks,
        )

    async def limit(self, name: str, key: str) -> None:
        """Count this request against a named limit (spek.ratelimits.LIMITS) for `key`, and the global cap."""
        await self._count_request((name, key))

    async def _count_request(self, *hits: tuple[str, ...], reads: Sequence[str] = ()) -> list[bytes | None]:
        """Count `hits` (limit name, then keys), and the global cap once per request, and read the Redis keys
        in `reads`, all in one round trip."""
        if not self._counted:
            self._counted = True
            hits = (("everyone",), *hits)
        return await self.services.rate_limits.hit_all(hits, reads)

    def absolute_url(self, path: str) -> str:
        """Links that work outside the web app too (mobile apps, a shared download), on SPEK_PUBLIC_URL: never
        built from the request's Host header, which the caller controls."""
        return self.services.settings.public_base_url + path


Info = StrawberryInfo[Context, None]
