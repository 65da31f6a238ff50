"""The ARQ worker process: what it runs, where it connects, how it reports that it is alive."""

import threading
from typing import Any

import structlog
from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Function, Worker, func

from jobs.chat import answer_message
from jobs.documents import process_document
from jobs.housekeeping import expire_old_audio, purge_expired_refresh_tokens, requeue_lost_jobs
from jobs.notes import make_note
from jobs.recordings import transcribe_recording
from jobs.search import index_everyone, index_search_entries
from spek.db import create_engine, create_sessionmaker
from spek.jobs.queue import CHAT_FUNCTIONS, JobFunction, queue_name
from spek.settings import Settings
from spek.storage import create_storage

log = structlog.get_logger("spek.worker")

# What runs each job function the API enqueues (spek.jobs.queue.JobFunction).
FUNCTIONS: dict[JobFunction, Function] = {
    JobFunction.TRANSCRIBE_RECORDING: func(transcribe_recording, name=JobFunction.TRANSCRIBE_RECORDING.value),
    JobFunction.PROCESS_DOCUMENT: func(process_document, name=JobFunction.PROCESS_DOCUMENT.value),
    # keep_result=0: a finished job's id is free at once for the user's next change.
    JobFunction.MAKE_NOTE: func(make_note, name=JobFunction.MAKE_NOTE.value),
    JobFunction.INDEX_SEARCH: func(index_search_entries, name=JobFunction.INDEX_SEARCH.value, keep_result=0),
    JobFunction.ANSWER_MESSAGE: func(answer_message, name=JobFunction.ANSWER_MESSAGE.value),
}


def create_worker(settings: Settings, chat: bool = False) -> Worker:
    """The worker for every job but chat answers, or (`chat`) the one for chat answers only."""
    database_url, redis_url = settings.database_url, settings.redis_url
    if not database_url or not redis_url:
        raise RuntimeError("The worker needs DATABASE_URL and REDIS_URL (`spek up` sets both for you).")

    stopping = threading.Event()
    storage = create_storage(settings)  # here, not in on_startup: bad storage settings stop start-up at once

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["stopping"] = stopping
        ctx["engine"] = create_engine(database_url)
        ctx["sessionmaker"] = create_sessionmaker(ctx["engine"])
        ctx["storage"] = storage
        ctx["models"] = {}  # see jobs.models.load_once
        log.info("worker.started", queue=queue_name(settings, chat))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()
        await storage.close()
        log.info("worker.stopped")

    functions = [f for name, f in FUNCTIONS.items() if (name in CHAT_FUNCTIONS) == chat]
    worker = Worker(
        functions=functions,
        job_timeout=6 * 3600,
        # Attempts are counted and limited on the Job row (SPEK_JOB_MAX_ATTEMPTS): a job ARQ gave up
        # on by itself would never tell its subscribers.
        max_tries=1000,
        max_jobs=settings.worker_jobs,
        allow_abort_jobs=True,  # cancelJob
        cron_jobs=[]
        if chat
        else [
            cron(purge_expired_refresh_tokens, minute=17, run_at_startup=True),
            cron(index_everyone, second=40),  # every minute
            # Every 15 s, and when a worker starts: a job Redis lost waits at most GRACE_SECONDS + 15 s.
            cron(requeue_lost_jobs, second={10, 25, 40, 55}, run_at_startup=True),
            cron(expire_old_audio, minute=set(range(0, 60, 5)), second=20, run_at_startup=True),
        ],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=queue_name(settings, chat),
        # The key /readyz looks for; it expires a second after the interval.
        health_check_interval=settings.worker_heartbeat_seconds,
    )
    # SIGTERM/SIGINT: ARQ cancels running jobs; the flag makes a job's worker thread stop at its
    # next progress step and hand the job back instead of finishing the step.
    worker.on_stop = lambda signal: stopping.set()
    return worker
