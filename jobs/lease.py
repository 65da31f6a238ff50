"""A running job's lease on the queue.

ARQ marks a job "in progress" for its whole timeout (hours for a long recording), so a job whose
worker was killed would sit untouched that long. We keep the mark short and renew it while the job
runs: if the worker dies, the mark lapses within one lease and another worker picks the job up.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis


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
