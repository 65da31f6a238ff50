"""A running job's lease on the queue.

ARQ marks a job "in progress" for its whole timeout (hours for a long recording), so a job whose
worker was killed would sit untouched that long. We keep the mark short and renew it while the job
runs: if the worker dies, the mark lapses within one lease and another worker picks the job up.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.worker import Retry
from redis.asyncio import Redis

from spek.jobs.retries import RetryLater, WorkerStopping
from spek.settings import Settings


@contextlib.asynccontextmanager
async def hold_lease(redis: Redis, arq_job_id: str, seconds: float) -> AsyncIterator[None]:
    key = in_progress_key_prefix + arq_job_id

    async def renew() -> None:
        while True:
            await redis.pexpire(key, int(seconds * 1000))
            await asyncio.sleep(seconds / 3)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing


async def run_leased(ctx: dict[str, Any], run: Coroutine[Any, Any, None]) -> None:
    """Run a job function's work under a lease, turning its requests to run again into ARQ's."""
    settings: Settings = ctx["settings"]
    try:
        async with hold_lease(ctx["redis"], ctx["job_id"], settings.job_lease_seconds):
            await run
    except RetryLater as e:
        raise Retry(defer=e.delay) from e
    except WorkerStopping:
        raise Retry(defer=0) from None  # stays at the head of the queue for the next worker
