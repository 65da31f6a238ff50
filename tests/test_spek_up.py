"""`spek up`: everything from nothing, stopped cleanly by SIGTERM or Ctrl-C, restartable on the same data."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from spek.supervisor import ChildProcess, GaveUp, Supervisor
from tests.support import (
    PROGRESS,
    Account,
    GraphQLClient,
    free_port,
    post_file,
    register,
    spek_process,
    subscribe,
    wait_until_ready,
)

UPLOAD_DOCUMENT = "mutation($file: Upload!) { uploadDocument(file: $file) { job { id } } }"

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
    flaky = ChildProcess([sys.executable, "-c", "raise SystemExit(3)"], subprocess.Popen)
    supervisor = Supervisor({"flaky": flaky}, clock=lambda: now[0])
    supervisor.start_all()
    with pytest.raises(GaveUp, match=r"the flaky exited 5 times within 120 s \(last: exit code 3\)"):
        for _ in range(200):
            for child in supervisor.running():
                child.wait(10)
            supervisor.check()
            now[0] += 5  # restarts come after 1, 2, 4, 8 s: five exits fall within the 120 s window


def _wait_for_new_pid(data_dir: Path, server: str, old: int, log: Path) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            pid = server_pids(data_dir)[server]
        except (OSError, ValueError, KeyError):
            pid = old  # between its death and the restart the pid files come and go
        if pid != old and running(pid):
            return pid
        time.sleep(0.2)
    raise AssertionError(f"the {server} was not started again:\n{log.read_text()[-3000:]}")


def _subscriber_sees_the_outage_as_unavailable(
    process: subprocess.Popen, client: GraphQLClient, account: Account, redis_pid: int
) -> None:
    """A job's subscriber, when Redis dies under it, is told to try again (not INTERNAL)."""
    [worker] = workers(process)
    worker.suspend()  # the job stays queued, so its subscription follows live
    try:
        body = post_file(client, account.access_token, UPLOAD_DOCUMENT, {}, "minutes.md", b"# Minutes\n\nFerries.")
        job_id = body["data"]["uploadDocument"]["job"]["id"]
        _, errors = subscribe(
            SimpleNamespace(base_url=client.base_url),
            account.access_token,
            PROGRESS,
            {"job": job_id},
            on_event=lambda _event: psutil.Process(redis_pid).kill(),
        )
    finally:
        worker.resume()
    assert [error["extensions"]["code"] for error in errors] == ["UNAVAILABLE"], errors
    assert "try again" in errors[0]["message"] and errors[0]["extensions"]["retryAfter"] > 0


@pytest.mark.parametrize("server", ["redis", "postgres"])
def test_a_killed_embedded_server_is_started_again(tmp_path: Path, server: str) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "up.log"
    process, client, pids = start(data_dir, log)
    try:
        account = register(client)
        if server == "redis":
            _subscriber_sees_the_outage_as_unavailable(process, client, account, pids[server])
        else:
            psutil.Process(pids[server]).kill()
        _wait_for_new_pid(data_dir, server, pids[server], log)
        wait_until_ready(client.base_url, process)  # the API, the workers and the servers all answer again
        assert process.poll() is None
        assert (
            client.data(LOGIN, {"email": account.email, "password": account.password})["login"]["user"]["id"]
            == account.id
        )
        register(client)  # writes work too
        assert "child.exited" in log.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()[-3000:]
