"""Running the API: one process, or SPEK_API_WORKERS processes sharing one listening socket (uvicorn's
supervisor), whose Prometheus counters and histograms are kept in files that every process's /metrics
adds up (prometheus_client's multiprocess mode)."""

import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess
from uvicorn.supervisors.multiprocess import Process

from spek.settings import Settings

if TYPE_CHECKING:
    import uvicorn

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
APP_FACTORY = "spek.web.serving:app_from_environment"
SUPERVISOR = "SPEK_API_SUPERVISOR_PID"  # the workers' `spek serve`
STARTUP_FAILURE = 3  # uvicorn's exit code when the app cannot start


def metrics_dir(data_dir: Path, supervisor_pid: int) -> Path:
    """Where one `spek serve`'s API processes keep their metric files (one folder per `spek serve`, so that
    two on the same data dir never clean each other's)."""
    return data_dir.resolve() / "metrics" / f"api-{supervisor_pid}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_metrics_dir(settings: Settings) -> Path:
    """An empty folder for this `spek serve`'s metric files; those of `spek serve`s that are gone are removed.
    A data dir the API cannot write to (the JWT secret set, files on S3): a temporary folder instead."""
    path = metrics_dir(settings.data_dir, os.getpid())
    try:
        for old in path.parent.glob("api-*"):
            pid = old.name.removeprefix("api-")
            if old != path and (not pid.isdigit() or not _alive(int(pid))):
                shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    except OSError:
        return Path(tempfile.mkdtemp(prefix="spek-metrics-"))
    return path


def serve(settings: Settings) -> None:
    """`spek serve`: the API on SPEK_HOST:SPEK_PORT in `settings.api_workers` processes."""
    import uvicorn

    if settings.api_workers == 1:
        from spek.web.app import create_app

        server = uvicorn.Server(_config(settings, create_app(settings)))
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return

    if not settings.database_url or not settings.redis_url:  # said at once, not by each worker
        raise RuntimeError("The API needs DATABASE_URL and REDIS_URL (`spek up` sets both for you).")
    path = prepare_metrics_dir(settings)
    os.environ[MULTIPROCESS_DIR] = str(path)  # read by prometheus_client as each worker imports it
    os.environ[SUPERVISOR] = str(os.getpid())
    try:
        config = _config(settings, APP_FACTORY, settings.api_workers)
        supervisor = _SocketPerWorker(config, _sockets_on_one_port(settings))
        supervisor.run()  # until SIGTERM or SIGINT; a worker that dies is started again
    finally:
        shutil.rmtree(path, ignore_errors=True)
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        sys.exit(STARTUP_FAILURE)


class _SocketPerWorker(Multiprocess):
    """uvicorn's supervisor, each API process started on a listening socket of its own, all on one port
    (SO_REUSEPORT): the kernel spreads new connections evenly over them. On one shared socket the process
    that wakes first takes every connection waiting: 43 of wrk's 50 went to one of two processes, whose
    clients waited ~6× longer than the other's (`me` p99 at 50 clients 73–87 ms; 58–65 ms this way). A
    process that dies is replaced by uvicorn's own code, on every socket: it still serves, spread less
    evenly."""

    def init_processes(self) -> None:
        for sock in self.sockets:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)


def _sockets_on_one_port(settings: Settings) -> list[socket.socket]:
    """One listening socket per API process on SPEK_HOST:SPEK_PORT. A port another server holds is refused
    first: with SO_REUSEPORT alone, a second `spek serve` would quietly share it."""
    _bind(settings, reuse_port=False).close()
    return [_bind(settings, reuse_port=True) for _ in range(settings.api_workers)]


def _bind(settings: Settings, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, reuse_port)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as e:
        print(f"Cannot listen on {settings.host}:{settings.port}: {e.strerror}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    return sock


def _config(settings: Settings, app: "Starlette | str", workers: int = 1) -> "uvicorn.Config":
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=workers,
        factory=isinstance(app, str),
        log_level="warning",
        ws="websockets-sansio",
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; SPEK_TRUSTED_PROXIES decides instead.
        proxy_headers=False,
    )


def app_from_environment() -> Starlette:
    """One API worker's app: uvicorn imports and calls this in each process it starts."""
    from spek.logging import configure_logging
    from spek.settings import get_settings
    from spek.web.app import create_app

    _die_with_parent()
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)


def _die_with_parent() -> None:
    """A worker gets SIGTERM when its supervisor dies, even by SIGKILL: none is left holding the port (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if str(os.getppid()) != os.environ.get(SUPERVISOR, str(os.getppid())):  # it died before the line above
            os.kill(os.getpid(), signal.SIGTERM)


def in_multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR))


def process_metrics() -> Collector:
    """This API's own metrics (GraphQL requests, rate-limit refusals, …): summed over every API process of
    this `spek serve` in multiprocess mode; else this process's registry, with its process_* and python_*."""
    return _AllProcesses() if in_multiprocess_mode() else _DefaultRegistry()


def process_exited() -> None:
    """At a worker's exit: its live gauges (if any) stop counting; its counters stay in the sums."""
    if in_multiprocess_mode():
        mark_process_dead(os.getpid())


class _DefaultRegistry(Collector):
    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class _AllProcesses(Collector):
    def collect(self) -> Iterable[Metric]:
        found = list(MultiProcessCollector(None).collect())
        yield from found
        # A metric no process has used yet has no file; still say it exists (as one process alone does).
        names = {metric.name for metric in found}
        yield from (metric for metric in REGISTRY.collect() if not metric.samples and metric.name not in names)
