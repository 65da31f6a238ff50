"""The signed-in caller's account row, kept by each API process between requests.

Every signed-in request needs its caller's row, and a user row never changes once written: deleting the
account is the only thing that ends it. So each process keeps the rows it has read (the most recently used
ones, a bounded number) and reads the database only for a caller it has not seen. A deletion is announced in
Redis with a marker that each signed-in request reads in the round trip it makes anyway, for its rate limits
(`RateLimits.hit_all`): a deleted account's access token stops working on every process as soon as the
deletion has returned. The marker lasts as long as an access token, so no token issued before the deletion
outlives it (and none can be issued after).
"""

import uuid
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from spek.accounts.models import User
from spek.accounts.service import ACCOUNT_GONE, attach_user, read_user_row
from spek.errors import Unauthenticated

MAX_KEPT = 10_000  # rows per process, about 1 KB each


def deleted_marker(user_id: uuid.UUID) -> str:
    """The Redis key that says the account was deleted."""
    return f"spek:accounts:deleted:{user_id}"


class Callers:
    def __init__(self, redis: Redis, access_token_seconds: int, max_kept: int = MAX_KEPT) -> None:
        self._redis = redis
        self._marker_seconds = access_token_seconds
        self._max_kept = max_kept
        self._rows: OrderedDict[uuid.UUID, dict[str, Any]] = OrderedDict()

    async def get(self, session: AsyncSession, user_id: uuid.UUID, marker: bytes | None) -> User:
        """The caller's account attached to `session`, given the value of its `deleted_marker` key."""
        if marker is not None:
            self._rows.pop(user_id, None)
            raise Unauthenticated(ACCOUNT_GONE)
        values = self._rows.get(user_id)
        if values is None:
            values = self._rows[user_id] = await read_user_row(session, user_id)
            if len(self._rows) > self._max_kept:
                self._rows.popitem(last=False)
        else:
            self._rows.move_to_end(user_id)
        return attach_user(session, values)

    async def forget(self, user_id: uuid.UUID) -> None:
        """After the account's deletion has committed: every process stops using its row."""
        self._rows.pop(user_id, None)
        await self._redis.set(deleted_marker(user_id), b"1", ex=self._marker_seconds)
