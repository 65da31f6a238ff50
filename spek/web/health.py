"""Liveness (/healthz) and readiness (/readyz: database, Redis, a live worker)."""

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from spek.jobs.queue import worker_heartbeat_key
from spek.web.services import Services

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services

    async def database() -> None:
        async with services.sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def redis() -> None:
        await services.redis.ping()

    async def worker() -> None:
        if not await services.redis.exists(worker_heartbeat_key(services.settings)):
            raise RuntimeError("no worker heartbeat")

    checks = {"database": database, "redis": redis, "worker": worker}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
            results[name] = "ok"
        except Exception as e:  # noqa: BLE001  (any failure means not ready; say which part)
            results[name] = f"failing: {type(e).__name__}: {e}" if str(e) else f"failing: {type(e).__name__}"
    ready = all(v == "ok" for v in results.values())
    failing = [name for name, v in results.items() if v != "ok"]
    body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": results}
    if failing:
        body["failing"] = failing
    return JSONResponse(body, status_code=200 if ready else 503)
