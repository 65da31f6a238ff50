"""Jobs the database says are waiting or running but the queue has lost — after Redis lost its data, the
queue was flushed, or the API died between saving a job and queueing it — are queued again. A job checks
its row when it starts (spek.jobs.runner), so one that has finished meanwhile is never run twice."""

from datetime import timedelta

import structlog
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from spek.db import utcnow
from spek.jobs.models import Job, JobStatus
from spek.jobs.queue import JobFunction, enqueue

log = structlog.get_logger("spek.jobs")

# What runs a job of each kind (Job.kind).
FUNCTIONS = {
    "transcription": JobFunction.TRANSCRIBE_RECORDING,
    "document": JobFunction.PROCESS_DOCUMENT,
    "note": JobFunction.MAKE_NOTE,
    "chat": JobFunction.ANSWER_MESSAGE,
}
# Younger jobs may be between their row's commit and their enqueue: leave them be.
GRACE_SECONDS = 15


async def is_lost(queue: ArqRedis, job: Job, grace_seconds: float = GRACE_SECONDS) -> bool:
    """Unfinished, past the grace period, and neither waiting in the queue nor held by a worker's lease."""
    if job.status.is_terminal or job.created_at >= utcnow() - timedelta(seconds=grace_seconds):
        return False
    return not await queue.exists(job_key_prefix + str(job.id), in_progress_key_prefix + str(job.id))


async def requeue(queue: ArqRedis, job: Job) -> None:
    await queue.delete(result_key_prefix + str(job.id))  # a stale result would refuse the same job id
    await enqueue(queue, FUNCTIONS[job.kind], job.id)
    log.warning("job.requeued", job_id=str(job.id), kind=job.kind, status=job.status.value)


async def requeue_lost(session: AsyncSession, queue: ArqRedis, grace_seconds: float = GRACE_SECONDS) -> int:
    """Queue again every unfinished job that has neither a queue entry nor a worker's lease; how many."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    unfinished = select(Job).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]), Job.created_at < cutoff)
    requeued = 0
    for job in (await session.execute(unfinished)).scalars():
        if job.kind in FUNCTIONS and await is_lost(queue, job, grace_seconds):
            await requeue(queue, job)
            requeued += 1
    return requeued
