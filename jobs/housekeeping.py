"""Periodic upkeep jobs."""

from typing import Any

from spek.accounts import service as accounts
from spek.jobs.reconcile import requeue_lost
from spek.recordings.expiry import expire_audio
from spek.settings import Settings


async def requeue_lost_jobs(ctx: dict[str, Any]) -> int:
    async with ctx["sessionmaker"]() as session:
        return await requeue_lost(session, ctx["redis"])


async def expire_old_audio(ctx: dict[str, Any]) -> int:
    settings: Settings = ctx["settings"]
    if settings.audio_ttl_hours is None:
        return 0
    async with ctx["sessionmaker"]() as session:
        return await expire_audio(session, ctx["storage"], settings.audio_ttl_hours)


async def purge_expired_refresh_tokens(ctx: dict[str, Any]) -> int:
    async with ctx["sessionmaker"]() as session:
        return await accounts.purge_expired_refresh_tokens(session)
