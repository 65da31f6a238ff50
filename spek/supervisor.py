"""What `spek up` keeps running: its child processes and its embedded servers. One that ends is started
again after a backoff that grows with its recent exits; one that keeps ending stops everything, saying why."""

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

log = structlog.get_logger("spek.up")

RESTART_BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


class Supervised(Protocol):
    def start(self) -> None: ...

    def ended(self) -> str | None:
        """None while it runs; otherwise how it ended, for the log ("exit code 3")."""
        ...


@dataclass
class ChildProcess:
    """A `spek` command run as a child process (the API, a worker)."""

    command: list[str]
    spawn: Callable[[list[str]], subprocess.Popen]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = self.spawn(self.command)

    def ended(self) -> str | None:
        if self.process is None:
            return "not started"
        code = self.process.poll()
        return None if code is None else f"exit code {code}"


class Server(Protocol):
    def alive(self) -> bool: ...
    def restart(self) -> None: ...


@dataclass
class EmbeddedServer:
    """An embedded PostgreSQL or Redis, started by `spek up` before anything else: watched, and brought
    back on the same address when it dies."""

    server: Server

    def start(self) -> None:
        self.server.restart()

    def ended(self) -> str | None:
        return None if self.server.alive() else "the server process is gone"


@dataclass
class _Watch:
    name: str
    what: Supervised
    exits: list[float] = field(default_factory=list)  # when it ended lately (monotonic seconds)
    restart_at: float | None = None


class GaveUp(Exception):
    """Something keeps ending; the message says what and how."""


class Supervisor:
    def __init__(
        self,
        watched: dict[str, Supervised],
        limit: int = 5,
        window_seconds: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`limit` ends of one within `window_seconds`: it will not stay up, so stop everything."""
        self._watched = [_Watch(name, what) for name, what in watched.items()]
        self._limit, self._window = limit, window_seconds
        self._clock = clock

    def start_all(self) -> None:
        """Start what is not running yet (the embedded servers already are)."""
        for watch in self._watched:
            if watch.what.ended() is not None:
                watch.what.start()

    def check(self) -> None:
        """Start again what is due; note what ended. GaveUp when one ended `limit` times lately."""
        for watch in self._watched:
            now = self._clock()
            if watch.restart_at is not None:
                if now < watch.restart_at:
                    continue
                log.info("child.restarting", process=watch.name, exits=len(watch.exits))
                watch.restart_at = None
                try:
                    watch.what.start()
                except Exception as e:  # noqa: BLE001  (a server that will not start yet: counts as an exit)
                    self._ended(watch, now, f"failed to start: {e}")
                continue
            ended = watch.what.ended()
            if ended is not None:
                self._ended(watch, now, ended)

    def _ended(self, watch: _Watch, now: float, how: str) -> None:
        watch.exits = [t for t in watch.exits if now - t < self._window] + [now]
        if len(watch.exits) >= self._limit:
            raise GaveUp(
                f"the {watch.name} exited {len(watch.exits)} times within {self._window:.0f} s "
                f"(last: {how}); see the log above for why"
            )
        delay = RESTART_BACKOFF_SECONDS[min(len(watch.exits), len(RESTART_BACKOFF_SECONDS)) - 1]
        log.error("child.exited", process=watch.name, how=how, restart_in_seconds=delay)
        watch.restart_at = now + delay

    def running(self) -> list[subprocess.Popen]:
        """The child processes, to stop them (the embedded servers are stopped by their owners)."""
        return [
            watch.what.process
            for watch in self._watched
            if isinstance(watch.what, ChildProcess) and watch.what.process is not None
        ]
