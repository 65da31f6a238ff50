"""Jobs: the row that says where a processing run stands, and the events that tell clients."""

import uuid
from collections.abc import AsyncIterator

from arq.constants import abort_jobs_ss
from arq.utils import timestamp_ms
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from spek.accounts.models import User
from spek.db import utcnow
from spek.errors import BadUserInput, Conflict, NotFound
from spek.jobs import events
from spek.jobs.models import Job, JobStatus


async def create_job(session: AsyncSession, user: User, kind: str) -> Job:
    job = Job(user_id=user.id, kind=kind, status=JobStatus.QUEUED, progress=0.0, attempts=0)
    session.add(job)
    await session.flush()
    return job


async def counts(session: AsyncSession) -> list[tuple[str, JobStatus, int]]:
    """How many jobs there are of each kind in each status, everyone's (for operators' metrics)."""
    query = select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    return [(kind, status, count) for kind, status, count in await session.execute(query)]


def status_of(job: Job | None) -> JobStatus:
    """Where the processing of a thing with this job stands; a thing without a job (never the case
    today) is done."""
    return job.status if job is not None else JobStatus.COMPLETED


async def get_job(session: AsyncSession, user: User, job_id: uuid.UUID) -> Job:
    job = (await session.execute(select(Job).where(Job.id == job_id, Job.user_id == user.id))).scalar_one_or_none()
    if job is None:
        raise NotFound(f"Job {job_id} not found.")
    return job


async def report(
    session: AsyncSession,
    redis: Redis,
    job: Job,
    *,
    status: JobStatus | None = None,
    stage: str | None = None,
    progress: float | None = None,
    eta_seconds: float | None = None,
    message: str | None = None,
    error: str | None = None,
) -> int:
    """Save the job's new state, then tell subscribers. Progress never goes backwards."""
    if progress is not None and not 0.0 <= progress <= 1.0:
        raise BadUserInput(f"Job progress must be within 0..1, got {progress}.")
    now = utcnow()
    if status is not None:
        if status is JobStatus.RUNNING and job.started_at is None:
            job.started_at = now
        if status.is_terminal:
            job.finished_at = now
            eta_seconds = None
        job.status = status
    if job.status is JobStatus.COMPLETED:
        progress = 1.0
    if stage is not None:
        job.stage = stage
    if progress is not None:
        job.progress = max(job.progress, progress)
    job.eta_seconds = eta_seconds
    if error is not None:
        job.error = error
    await session.commit()
    return await events.append(
        redis, job.id, job.status, job.stage, job.progress, job.eta_seconds, message, job.error, now
    )


async def follow_job(
    session: AsyncSession, redis: Redis, user: User, job_id: uuid.UUID, after: int
) -> AsyncIterator[events.JobEvent]:
    """Check the user may see the job, then replay and follow its events."""
    job = await get_job(session, user, job_id)
    await session.close()  # don't hold a connection for a stream that may last an hour
    if job.status.is_terminal and not await redis.exists(events.stream_key(job.id)):
        # Its events have expired (they are kept a week); the row still says how it ended.
        yield events.JobEvent(
            str(job.id),
            after + 1,
            job.status,
            job.stage,
            job.progress,
            None,
            None,
            job.error,
            job.finished_at or job.created_at,
        )
        return
    async for event in events.follow(redis, job_id, after):
        yield event


def _cancel_key(job_id: uuid.UUID) -> str:
    return f"job:{job_id}:cancel"


async def cancel_job(session: AsyncSession, redis: Redis, user: User, job_id: uuid.UUID) -> Job:
    """Stop a queued or running job. The worker notices within one progress step and stops."""
    job = await get_job(session, user, job_id)
    if job.status.is_terminal:
        raise Conflict(f"The job is already {job.status.value}; there is nothing to cancel.")
    await redis.set(_cancel_key(job.id), "1", ex=events.RETENTION_SECONDS)
    await redis.zadd(abort_jobs_ss, {str(job.id): timestamp_ms()})  # ARQ cancels the running task
    await report(session, redis, job, status=JobStatus.CANCELLED, message="cancelled")
    return job


async def is_cancelled(redis: Redis, job_id: uuid.UUID) -> bool:
    return bool(await redis.exists(_cancel_key(job_id)))
