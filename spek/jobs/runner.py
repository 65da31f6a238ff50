"""One attempt at a job, whatever its kind: attempts counted, failures reported, shutdown survived.

A job function (jobs/) calls `run_job` with the work to do; the work reports its own stages. Here:
a job already finished or deleted is skipped; the attempt is counted, and a job whose earlier
attempts all died with their worker fails; a cancel ends quietly; on worker shutdown the job goes
back to the queue (not counted as an attempt); a transient failure is retried with backoff
(`RetryLater`), any other fails the job with its message.
"""

import asyncio
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio
import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.jobs import metrics
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.retries import RetryLater, WorkerStopping, backoff_seconds, is_transient

log = structlog.get_logger("spek.jobs")

# The clock of each attempt running in this worker, for its stages' timings.
_clocks: weakref.WeakKeyDictionary[Job, metrics.AttemptClock] = weakref.WeakKeyDictionary()


class Cancelled(Exception):
    """The user cancelled the job; its CANCELLED event has been sent already."""


class RunnerTools(Protocol):
    """What any job's tools give the runner (read-only, so each kind's tools may narrow the types)."""

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...
    @property
    def redis(self) -> Redis: ...
    @property
    def stopping(self) -> threading.Event: ...  # set when the worker is shutting down
    @property
    def max_attempts(self) -> int: ...
    @property
    def retry_backoff_seconds(self) -> float: ...


async def stop_if_asked(tools: RunnerTools, job: Job) -> None:
    """Between steps: stop if the user cancelled the job or the worker is shutting down."""
    if await jobs.is_cancelled(tools.redis, job.id):
        raise Cancelled
    if tools.stopping.is_set():
        raise WorkerStopping


async def begin_stage(tools: RunnerTools, session: AsyncSession, job: Job, stage: str, progress: float) -> None:
    """Start a stage of the work: stop first if asked to, then tell subscribers."""
    await stop_if_asked(tools, job)
    if (clock := _clocks.get(job)) is not None:
        clock.stage(stage)
    # The status is written once: a later write could undo a cancel that came in meanwhile.
    status = None if job.status is JobStatus.RUNNING else JobStatus.RUNNING
    await jobs.report(session, tools.redis, job, status=status, stage=stage, progress=progress)


async def run_job(
    tools: RunnerTools,
    job_id: uuid.UUID,
    what: str,
    work: Callable[[AsyncSession, Job], Awaitable[None]],
    failed: Callable[[AsyncSession, Job], Awaitable[None]] | None = None,
) -> None:
    """Run `work` once for the job; `what` names it in errors ("Transcription failed: …"). `failed` is
    awaited after the job is reported FAILED (its error says why), for work with a state of its own."""
    async with tools.sessionmaker() as session:
        job = await session.get(Job, job_id)
        if job is None or job.status.is_terminal:
            return  # deleted or cancelled meanwhile: nothing to do
        job.attempts += 1
        if job.attempts > tools.max_attempts:
            # Earlier runs ended without a word: their worker was killed (out of memory, a crash).
            await jobs.report(
                session,
                tools.redis,
                job,
                status=JobStatus.FAILED,
                error=f"{what} failed: the worker stopped during each of {tools.max_attempts} attempts "
                f"(last in the {job.stage or 'first'} stage).",
            )
            if failed is not None:
                await failed(session, job)
            return
        clock = _clocks[job] = metrics.AttemptClock(job.kind)
        outcome = "failed"
        try:
            await work(session, job)
            outcome = job.status.value.lower()
        except Cancelled:
            outcome = "cancelled"
            log.info("job.cancelled", job_id=str(job_id))
        except (WorkerStopping, asyncio.CancelledError):
            if not tools.stopping.is_set():
                outcome = "cancelled"
                raise  # the user's cancelJob: ARQ aborted the task, the job is CANCELLED already
            outcome = "handed_back"
            with anyio.CancelScope(shield=True):
                await _hand_back(tools, session, job_id)
            raise
        except Exception as e:
            await session.rollback()
            job = await session.get_one(Job, job_id)
            if is_transient(e) and job.attempts < tools.max_attempts:
                outcome = "retried"
                delay = backoff_seconds(job.attempts, tools.retry_backoff_seconds)
                log.warning("job.retrying", job_id=str(job_id), attempt=job.attempts, delay=delay, error=repr(e))
                await jobs.report(
                    session,
                    tools.redis,
                    job,
                    status=JobStatus.QUEUED,
                    message=f"{_describe(e)}; trying again in {delay:.0f} s "
                    f"(attempt {job.attempts + 1} of {tools.max_attempts})",
                )
                await metrics.record_retry(tools.redis, job.kind)
                raise RetryLater(delay) from e
            log.exception("job.failed", job_id=str(job_id))
            await jobs.report(
                session, tools.redis, job, status=JobStatus.FAILED, error=f"{what} failed: {_describe(e)}"
            )
            if failed is not None:
                await failed(session, job)
        finally:
            observations = clock.observations(outcome)
            log.info(
                "job.attempt_ended", job_id=str(job_id), kind=job.kind, outcome=outcome, seconds=observations[0][2]
            )
            with anyio.CancelScope(shield=True):
                await metrics.record(tools.redis, observations)


async def _hand_back(tools: RunnerTools, session: AsyncSession, job_id: uuid.UUID) -> None:
    """Back to the queue for another worker; a hand-back is not a failed attempt."""
    # The stop may have come in the middle of a database call (saving, indexing): that connection is left
    # mid-operation and refuses the next one, so it is dropped and the hand-back takes a fresh one.
    await session.invalidate()
    async with tools.sessionmaker() as fresh:
        job = await fresh.get_one(Job, job_id)
        job.attempts -= 1
        await jobs.report(
            fresh,
            tools.redis,
            job,
            status=JobStatus.QUEUED,
            message="the worker is shutting down; another worker will continue",
        )
    log.info("job.handed_back", job_id=str(job_id))


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
