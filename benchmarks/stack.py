"""A fresh `spek up` on embedded defaults in a scratch data dir, for one benchmark run."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port, wait_until_ready


@contextmanager
def running_spek(data_dir: Path, **settings: str) -> Iterator[str]:
    """Start `spek up` (`settings` added to its environment), wait until it is ready, yield its base URL;
    stop it cleanly afterwards. The same data dir starts again where it left off."""
    with running_spek_process(data_dir, None, **settings) as (base_url, _up):
        yield base_url


@contextmanager
def running_spek_process(
    data_dir: Path, log: Path | None = None, **settings: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`running_spek`, also yielding the `spek up` process (its children are the API and the workers);
    with `log`, their output (INFO and up) is appended to that file."""
    port = free_port()
    env = {
        **os.environ,
        "SPEK_DATA_DIR": str(data_dir),
        "SPEK_PORT": str(port),
        "SPEK_LOG_LEVEL": "WARNING" if log is None else "INFO",
        **settings,
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    log_file = log.open("a") if log is not None else None
    up = subprocess.Popen(
        [sys.executable, "-m", "spek", "up"], env=env, stdout=log_file or subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, up)
        yield base_url, up
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)
        if log_file is not None:
            log_file.close()
