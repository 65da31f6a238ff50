"""Job progress events on a Redis Stream per job (`job:<id>`), numbered 1, 2, 3… without gaps."""

import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from redis.asyncio import Redis

from spek.jobs.models import JobStatus

# Keep a finished job's events a week, so late subscribers can still replay them.
RETENTION_SECONDS = 7 * 24 * 3600
FOLLOW_BLOCK_MS = 5000

# INCR and XADD in one step, so seq numbers follow stream order with no gaps.
_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'seq', seq, 'data', ARGV[1])
if ARGV[2] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return seq
"""


@dataclass
class JobEvent:
    job_id: str
    seq: int
    status: JobStatus
    stage: str | None
    progress: float
    eta_seconds: float | None
    message: str | None
    error: str | None
    at: datetime


def stream_key(job_id: uuid.UUID | str) -> str:
    return f"job:{job_id}"


async def append(
    redis: Redis,
    job_id: uuid.UUID,
    status: JobStatus,
    stage: str | None,
    progress: float,
    eta_seconds: float | None,
    message: str | None,
    error: str | None,
    at: datetime,
) -> int:
    data = json.dumps(
        {
            "status": status.value,
            "stage": stage,
            "progress": progress,
            "eta_seconds": eta_seconds,
            "message": message,
            "error": error,
            "at": at.isoformat(),
        }
    )
    key = stream_key(job_id)
    expire = "1" if status.is_terminal else "0"
    seq = redis.eval(_APPEND, 2, key, key + ":seq", data, expire, str(RETENTION_SECONDS))
    return int(await cast(Awaitable[int], seq))


def _decode(job_id: str, fields: dict[bytes, bytes]) -> JobEvent:
    data = json.loads(fields[b"data"])
    return JobEvent(
        job_id=job_id,
        seq=int(fields[b"seq"]),
        status=JobStatus(data["status"]),
        stage=data["stage"],
        progress=data["progress"],
        eta_seconds=data["eta_seconds"],
        message=data["message"],
        error=data["error"],
        at=datetime.fromisoformat(data["at"]),
    )


async def follow(redis: Redis, job_id: uuid.UUID, after: int = 0) -> AsyncIterator[JobEvent]:
    """Every event with seq > after, then live ones, ending after the terminal event."""
    key, last_id = stream_key(job_id), "0-0"
    while True:
        replies = await redis.xread({key: last_id}, count=100, block=FOLLOW_BLOCK_MS)
        for _stream, entries in replies:
            for entry_id, fields in entries:
                last_id = entry_id
                event = _decode(str(job_id), fields)
                if event.seq > after:
                    yield event
                if event.status.is_terminal:
                    return
