"""`spek up`: everything from nothing, stopped cleanly by SIGTERM or Ctrl-C, restartable on the same data."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from spek.supervisor import GaveUp, Supervisor
from tests.support import GraphQLClient, free_port, register, spek_process, wait_until_ready

LOGIN = "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { user { id } } }"


def server_pids(data_dir: Path) -> dict[str, int]:
    """The embedded PostgreSQL and Redis server processes, from their pid files."""
    postmaster = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0]
    redis_registry = json.loads((data_dir / "redis" / "spek.rdb.settings").read_text())
    return {"postgres": int(postmaster), "redis": int(Path(redis_registry["pidfile"]).read_text().strip())}


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start(data_dir: Path, log: Path) -> tuple[subprocess.Popen, GraphQLClient, dict[str, int]]:
    port = free_port()
    env = {"SPEK_DATA_DIR": str(data_dir), "SPEK_PORT": str(port), "DATABASE_URL": "", "REDIS_URL": ""}
    process = spek_process("up", env, stdout=log.open("a"), stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    wait_until_ready(base_url, process)
    children = {f"child{i}": c.pid for i, c in enumerate(psutil.Process(process.pid).children())}
    return process, GraphQLClient(base_url), {**server_pids(data_dir), **children}


def test_up_stops_cleanly_and_starts_again(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "up.log"

    first, client, pids = start(data_dir, log)
    assert len(pids) == 5, pids  # postgres, redis, API, worker, chat worker
    account = register(client)
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 0, log.read_text()
    assert [name for name, pid in pids.items() if running(pid)] == []

    # Killed outright, it leaves its servers behind; the next run on the same data takes over.
    second, client, pids = start(data_dir, log)
    assert (
        client.data(LOGIN, {"email": account.email, "password": account.password})["login"]["user"]["id"] == account.id
    )
    second.kill()
    second.wait(10)

    third, client, third_pids = start(data_dir, log)
    assert (
        client.data(LOGIN, {"email": account.email, "password": account.password})["login"]["user"]["id"] == account.id
    )
    third.send_signal(signal.SIGINT)  # Ctrl-C
    assert third.wait(60) == 0, log.read_text()
    leftovers = [name for name, pid in {**pids, **{k + "'": v for k, v in third_pids.items()}}.items() if running(pid)]
    assert leftovers == [], log.read_text()


def workers(process: subprocess.Popen) -> list[psutil.Process]:
    """`spek up`'s live worker children (not the chat worker)."""
    found = []
    for child in psutil.Process(process.pid).children():
        try:
            if running(child.pid) and child.cmdline()[-1:] == ["worker"]:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_child_that_dies_is_started_again(tmp_path: Path) -> None:
    process, client, _ = start(tmp_path / "data", tmp_path / "up.log")
    try:
        [worker] = workers(process)
        worker.kill()
        deadline = time.monotonic() + 30
        while True:
            now = workers(process)
            if now and now[0].pid != worker.pid:
                break
            assert time.monotonic() < deadline, (tmp_path / "up.log").read_text()[-3000:]
            time.sleep(0.2)
        assert process.poll() is None  # the API, Redis and PostgreSQL went on meanwhile
        register(client)
        assert "child.exited" in (tmp_path / "up.log").read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0


def test_a_child_that_keeps_exiting_stops_everything_saying_why() -> None:
    now = [0.0]
    supervisor = Supervisor({"flaky": [sys.executable, "-c", "raise SystemExit(3)"]}, subprocess.Popen, lambda: now[0])
    supervisor.start_all()
    with pytest.raises(GaveUp, match=r"the flaky exited 5 times within 120 s \(last exit code 3\)"):
        for _ in range(200):
            for child in supervisor.running():
                child.wait(10)
            supervisor.check()
            now[0] += 5  # restarts come after 1, 2, 4, 8 s: five exits fall within the 120 s window
