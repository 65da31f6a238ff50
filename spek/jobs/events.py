"""Job progress events on a numbered Redis Stream per job (`job:<id>`)."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from spek import streams
from spek.jobs.models import JobStatus

# Keep a finished job's events a week, so late subscribers can still replay them.
RETENTION_SECONDS = 7 * 24 * 3600


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
    data = {
        "status": status.value,
        "stage": stage,
        "progress": progress,
        "eta_seconds": eta_seconds,
        "message": message,
        "error": error,
        "at": at.isoformat(),
    }
    return await streams.append(
        redis, stream_key(job_id), data, final=status.is_terminal, retention_seconds=RETENTION_SECONDS
    )


def _decode(job_id: str, seq: int, data: dict[str, Any]) -> JobEvent:
    return JobEvent(
        job_id=job_id,
        seq=seq,
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
    async for seq, data in streams.follow(redis, stream_key(job_id), after):
        event = _decode(str(job_id), seq, data)
        yield event
        if event.status.is_terminal:
            return  # streams written before events were marked final end here too
