"""Periodic upkeep jobs."""

from typing import Any

from spek.accounts import service as accounts


async def purge_expired_refresh_tokens(ctx: dict[str, Any]) -> int:
    async with ctx["sessionmaker"]() as session:
        return await accounts.purge_expired_refresh_tokens(session)
