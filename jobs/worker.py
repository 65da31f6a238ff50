"""The ARQ worker process: what it runs, where it connects, how it reports that it is alive."""

from typing import Any

import structlog
from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker

from jobs.housekeeping import purge_expired_refresh_tokens
from jobs.recordings import transcribe_recording
from spek.db import create_engine, create_sessionmaker
from spek.settings import Settings
from spek.storage import storage_from_settings

log = structlog.get_logger("spek.worker")


def create_worker(settings: Settings) -> Worker:
    if not settings.database_url or not settings.redis_url:
        raise RuntimeError("The worker needs DATABASE_URL and REDIS_URL (`spek up` sets both for you).")

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["engine"] = create_engine(settings.database_url)
        ctx["sessionmaker"] = create_sessionmaker(ctx["engine"])
        ctx["storage"] = storage_from_settings(settings.data_dir)
        log.info("worker.started", queue=settings.queue_name)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()
        log.info("worker.stopped")

    return Worker(
        functions=[transcribe_recording],
        job_timeout=6 * 3600,
        allow_abort_jobs=True,  # cancelJob
        cron_jobs=[cron(purge_expired_refresh_tokens, minute=17, run_at_startup=True)],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        queue_name=settings.queue_name,
        # The key /readyz looks for; it expires a second after the interval.
        health_check_interval=settings.worker_heartbeat_seconds,
    )
