"""`spek up | serve | worker | migrate`."""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import structlog

from spek.embedded import EmbeddedPostgres, EmbeddedRedis, wait_for_exit
from spek.logging import configure_logging
from spek.settings import Settings, get_settings
from spek.supervisor import ChildProcess, EmbeddedServer, GaveUp, Supervised, Supervisor

log = structlog.get_logger("spek")
CHILD_STOP_TIMEOUT_SECONDS = 30


def serve(settings: Settings) -> None:
    from spek.web.serving import serve as serve_api

    serve_api(settings)  # SPEK_API_WORKERS processes on SPEK_HOST:SPEK_PORT


def worker(settings: Settings, chat: bool) -> None:
    from jobs.worker import create_worker

    create_worker(settings, chat).run()


def telegram(settings: Settings) -> None:
    from telegram_bot.app import run

    run(settings)  # long polling (or, with SPEK_TELEGRAM_WEBHOOK_URL, the webhook registered for the API)


def check_worker(settings: Settings, chat: bool) -> None:
    """Exit 0 when some worker on the queue has reported in lately (for container health checks)."""
    import redis

    from spek.jobs.queue import worker_heartbeat_key

    heartbeat = worker_heartbeat_key(settings, chat)
    if not settings.redis_url or not redis.Redis.from_url(settings.redis_url).exists(heartbeat):
        sys.exit("no live worker heartbeat")


def reindex(settings: Settings) -> None:
    """Queue the embedding of every search entry that has no vector of the configured model."""
    import asyncio

    from arq import create_pool
    from arq.connections import RedisSettings

    from spek.db import create_engine, create_sessionmaker
    from spek.embeddings import model_name
    from spek.jobs.queue import JobFunction
    from spek.search import index

    if not settings.database_url or not settings.redis_url:
        sys.exit("spek reindex needs DATABASE_URL and REDIS_URL (it asks the running workers to do the work).")
    database_url, redis_url = settings.database_url, settings.redis_url

    async def queue() -> int:
        engine = create_engine(database_url)
        async with create_sessionmaker(engine)() as session:
            pending = await index.count_pending(session, model_name(settings.embedding_model))
        await engine.dispose()
        redis = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=settings.queue_name)
        await redis.enqueue_job(JobFunction.INDEX_SEARCH.value, _job_id="index:everyone")
        await redis.aclose()
        return pending

    pending = asyncio.run(queue())
    print(f"{pending} search entries to embed with {model_name(settings.embedding_model)}; the workers are on it.")


def migrate(database_url: str | None, revision: str = "head") -> None:
    from spek import migrate as migrations

    if not database_url:
        sys.exit("spek migrate needs DATABASE_URL (`spek up` migrates its embedded database itself).")
    migrations.upgrade(database_url, revision)


def _die_with_parent() -> None:
    """Children get SIGTERM if `spek up` itself is killed, so nothing is left running (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# What `spek up` runs: the API, the worker for recordings, documents and notes, the worker for chat answers.
CHILDREN = {"serve": ["serve"], "worker": ["worker"], "chat worker": ["worker", "--chat"]}
# ... and the Telegram bot, when SPEK_TELEGRAM_TOKEN is set.
TELEGRAM_CHILD = {"telegram bot": ["telegram"]}


def child_commands(settings: Settings) -> dict[str, list[str]]:
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token is not None else ""
    return {**CHILDREN, **(TELEGRAM_CHILD if token else {})}


def up(settings: Settings) -> None:
    """Everything on one machine: embedded servers where no URL is set, the API, a worker and a chat worker."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stopping: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    cleanups: list[Callable[[], None]] = []
    supervisor: Supervisor | None = None
    exit_code = 0
    try:
        env = dict(os.environ, SPEK_DATA_DIR=str(data_dir))
        watched: dict[str, Supervised] = {}
        if not settings.database_url:
            postgres = EmbeddedPostgres(data_dir / "postgres")
            cleanups.append(postgres.stop)
            env["DATABASE_URL"] = postgres.start()
            watched["embedded PostgreSQL"] = EmbeddedServer(postgres)
            log.info("embedded.postgres.started", directory=str(postgres.directory))
        if not settings.redis_url:
            redis = EmbeddedRedis(data_dir / "redis")
            cleanups.append(redis.stop)
            env["REDIS_URL"] = redis.start()
            watched["embedded Redis"] = EmbeddedServer(redis)
            log.info("embedded.redis.started", url=env["REDIS_URL"])
        migrate(env.get("DATABASE_URL") or settings.database_url)
        log.info("database.migrated")

        def spawn(command: list[str]) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "spek", *command], env=env, start_new_session=True, preexec_fn=_die_with_parent
            )

        watched.update({name: ChildProcess(command, spawn) for name, command in child_commands(settings).items()})
        supervisor = Supervisor(watched, settings.restart_limit, settings.restart_window_seconds)
        supervisor.start_all()
        base = f"http://{settings.host}:{settings.port}"
        print(
            f"\nSpek is up.\n  GraphiQL:  {base}/graphql\n  Web app:   {base}/\n  Ready:     {base}/readyz\n"
            f"  Data:      {data_dir}\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping:
            supervisor.check()  # a child or embedded server that ended starts again
            time.sleep(0.2)
    except GaveUp as reason:
        log.error("spek.giving_up", reason=str(reason))
        print(f"\nSpek stopped: {reason}.", file=sys.stderr, flush=True)
        exit_code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        children = supervisor.running() if supervisor is not None else []
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            wait_for_exit(child, CHILD_STOP_TIMEOUT_SECONDS)
        for cleanup in reversed(cleanups):
            cleanup()
        log.info("spek.stopped")
    sys.exit(exit_code)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="spek", description="Spek: transcripts, notes and chat over GraphQL.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run everything on this machine (embedded PostgreSQL/Redis unless URLs are set)")
    commands.add_parser("serve", help="run the API (needs DATABASE_URL and REDIS_URL)")
    worker_parser = commands.add_parser("worker", help="run one ARQ worker (needs DATABASE_URL and REDIS_URL)")
    worker_parser.add_argument("--check", action="store_true", help="only check that a worker is alive; exit 1 if not")
    worker_parser.add_argument("--chat", action="store_true", help="the worker for chat answers (its own queue)")
    commands.add_parser("telegram", help="run the Telegram bot (needs SPEK_TELEGRAM_TOKEN, DATABASE_URL, REDIS_URL)")
    commands.add_parser("reindex", help="embed every search entry again with SPEK_EMBEDDING_MODEL, in the workers")
    migrate_parser = commands.add_parser("migrate", help="apply database migrations (needs DATABASE_URL)")
    migrate_parser.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)

    settings = get_settings()
    configure_logging(settings)
    if args.command == "up":
        up(settings)
    elif args.command == "serve":
        serve(settings)
    elif args.command == "worker":
        check_worker(settings, args.chat) if args.check else worker(settings, args.chat)
    elif args.command == "telegram":
        telegram(settings)
    elif args.command == "reindex":
        reindex(settings)
    elif args.command == "migrate":
        migrate(settings.database_url, args.revision)
