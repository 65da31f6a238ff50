"""Periodic upkeep jobs."""

from typing import Any

from spek.accounts import service as accounts
from spek.jobs.reconcile import requeue_lost


async def requeue_lost_jobs(ctx: dict[str, Any]) -> int:
    async with ctx["sessionmaker"]() as session:
        return await requeue_lost(session, ctx["redis"])


async def purge_expired_refresh_tokens(ctx: dict[str, Any]) -> int:
    async with ctx["sessionmaker"]() as session:
        return await accounts.purge_expired_refresh_tokens(session)
