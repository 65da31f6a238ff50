"""`spek up`'s child processes, kept running: a child that exits is started again after a backoff that grows
with its recent exits; one that keeps exiting stops everything, saying why."""

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger("spek.up")

RESTART_BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
CRASH_WINDOW_SECONDS = 120.0
MAX_CRASHES = 5  # exits of one child within the window: it will not come up, so stop


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    exits: list[float] = field(default_factory=list)  # when it exited lately (monotonic seconds)
    restart_at: float | None = None


class GaveUp(Exception):
    """A child keeps exiting; the message says which and how."""


class Supervisor:
    def __init__(
        self,
        commands: dict[str, list[str]],
        start: Callable[[list[str]], subprocess.Popen],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._children = [Child(name, command) for name, command in commands.items()]
        self._start = start
        self._clock = clock

    def start_all(self) -> None:
        for child in self._children:
            child.process = self._start(child.command)

    def check(self) -> None:
        """Start again what is due; note what exited. GaveUp when a child exited MAX_CRASHES times lately."""
        now = self._clock()
        for child in self._children:
            if child.process is None:
                if child.restart_at is not None and now >= child.restart_at:
                    log.info("child.restarting", process=child.name, exits=len(child.exits))
                    child.process, child.restart_at = self._start(child.command), None
                continue
            code = child.process.poll()
            if code is None:
                continue
            child.exits = [t for t in child.exits if now - t < CRASH_WINDOW_SECONDS] + [now]
            if len(child.exits) >= MAX_CRASHES:
                raise GaveUp(
                    f"the {child.name} exited {len(child.exits)} times within {CRASH_WINDOW_SECONDS:.0f} s "
                    f"(last exit code {code}); see the log above for why"
                )
            delay = RESTART_BACKOFF_SECONDS[min(len(child.exits), len(RESTART_BACKOFF_SECONDS)) - 1]
            log.error("child.exited", process=child.name, code=code, restart_in_seconds=delay)
            child.process, child.restart_at = None, now + delay

    def running(self) -> list[subprocess.Popen]:
        return [child.process for child in self._children if child.process is not None]
