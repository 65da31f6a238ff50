"""The ASGI application: GraphQL, health, metrics and the web app."""

import contextlib
import gc
import hmac
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import structlog
from arq import create_pool
from arq.connections import RedisSettings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_schema.errors import error_response, internal_error_message
from graphql_schema.schema import build_schema
from graphql_schema.view import SpekGraphQL
from spek.accounts.callers import Callers
from spek.accounts.service import TokenPolicy
from spek.accounts.tokens import AccessTokens, load_signing_secret
from spek.db import create_engine, create_sessionmaker
from spek.jobs import metrics as job_metrics
from spek.jobs import service as jobs
from spek.jobs.queue import queue_name
from spek.links import SignedLinks
from spek.metrics import jobs_family, queue_depth_family
from spek.ratelimits import RateLimits
from spek.search.query_embedder import QueryEmbedder
from spek.settings import Settings
from spek.storage import create_storage
from spek.web import downloads
from spek.web.health import healthz, readyz
from spek.web.services import Services
from spek.web.serving import process_exited, process_metrics

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
log = structlog.get_logger("spek.api")


class RequestIdMiddleware:
    """Tags each request (and WebSocket) with an id: in logs, and in the X-Request-ID header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex[:16]
        structlog.contextvars.bind_contextvars(request_id=request_id)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if scope["type"] != "http" or started:
                raise
            # The last resort: what no handler caught is still answered in JSON, with the request id
            # (Starlette's own 500 is plain text, sent outside this middleware, without the id).
            log.exception("api.unhandled_error")
            await error_response(500, internal_error_message())(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")


class ReadAlready(Collector):
    """Metric families read (asynchronously) before the scrape renders them."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


class WebApp(StaticFiles):
    """The web app's files, revalidated on every load so an upgrade never runs stale modules."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if token is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
            return Response("/metrics needs Authorization: Bearer <SPEK_METRICS_TOKEN>\n", status_code=401)
    async with services.sessionmaker() as session:
        job_counts = [(kind, status.value, count) for kind, status, count in await jobs.counts(session)]
    depths = []
    for chat in (False, True):
        name = queue_name(services.settings, chat)
        depths.append((name, await services.redis.zcard(name)))
    # Built per scrape: this API's own metrics (every API process's, added up), then what is read now from
    # the database and Redis (the same for every process and replica, so never added up). Another source
    # read at scrape time: one more collector here.
    registry = CollectorRegistry(auto_describe=False)
    for collector in (
        process_metrics(),
        ReadAlready([jobs_family(job_counts), queue_depth_family(depths)]),
        ReadAlready(await job_metrics.read(services.redis)),
    ):
        registry.register(collector)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings) -> Starlette:
    database_url, redis_url = settings.database_url, settings.redis_url
    if not database_url or not redis_url:
        raise RuntimeError("The API needs DATABASE_URL and REDIS_URL (`spek up` sets both for you).")
    graphql = SpekGraphQL(
        build_schema(settings), max_request_bytes=settings.max_request_bytes, multipart_uploads_enabled=True
    )
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    webhook = bool(token and settings.telegram_webhook_url)
    storage = create_storage(settings)  # here, not in the lifespan: bad storage settings stop start-up at once

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Every connection an API process may use is kept open once opened: no overflow connections, opened
        # and closed again under load. At most 30 a process (as before), 60 across the processes, 10 at least.
        pool_size = min(30, max(10, 60 // settings.api_workers))
        engine = create_engine(database_url, pool_size=pool_size, max_overflow=0)
        redis = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=settings.queue_name)
        app.state.services = Services(
            settings=settings,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            rate_limits=RateLimits(settings, redis_url),
            token_policy=TokenPolicy(
                access=AccessTokens(load_signing_secret(settings), settings.access_token_ttl_seconds),
                refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
            ),
            callers=Callers(redis, settings.access_token_ttl_seconds),
            storage=storage,
            links=SignedLinks(load_signing_secret(settings), settings.signed_url_ttl_seconds),
            query_embedder=QueryEmbedder(settings.embedding_model),
        )
        app.state.telegram = None
        if webhook:  # aiogram is imported only where the bot runs
            from telegram_bot.app import webhook_for

            services = app.state.services
            app.state.telegram = webhook_for(
                settings, services.sessionmaker, services.redis, services.storage, services.rate_limits
            )
        # What is made at start-up lives as long as the process: the collector's full passes no longer walk
        # it (on this machine they took ~100 ms over the ~200 000 start-up objects, a stall of every request
        # in flight, the API's worst latency). Young objects are collected every 5000 allocations instead
        # of 700: `me` at 50 clients, 1.2 → 1.04 ms of API CPU a request, and a lower p99; at 50 000 the
        # CPU was the same but each pass a stall again.
        gc.freeze()
        gc.set_threshold(5_000, 10, 10)
        log.info("api.started")
        try:
            yield
        finally:
            if app.state.telegram is not None:
                await app.state.telegram.close()
            await redis.aclose()
            await engine.dispose()
            await storage.close()
            process_exited()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/files/audio/{recording_id}", downloads.audio, methods=["GET", "HEAD"]),
        Route("/files/exports/{transcript_id}", downloads.signed_export),
        Route("/transcripts/{transcript_id}/export", downloads.authenticated_export),
        Route("/files/account/{user_id}", downloads.account_export),
        Mount("/", WebApp(directory=STATIC_DIR, html=True), name="static"),
    ]
    if webhook:  # Telegram posts updates here (SPEK_TELEGRAM_WEBHOOK_URL), with its secret-token header
        from telegram_bot.app import webhook_endpoint

        routes.insert(0, Route("/telegram/webhook", webhook_endpoint, methods=["POST"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestIdMiddleware)
    return app
