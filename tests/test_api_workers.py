"""`spek serve` with several API processes (SPEK_API_WORKERS): one port, one /metrics that adds them all up."""

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from spek.embedded import wait_for_exit
from spek.web.serving import metrics_dir
from tests.support import GraphQLClient, free_port, poll_http, register, spek_process

DELETE_ACCOUNT = "mutation($p: String) { deleteAccount(password: $p) }"
TYPENAME = 'spek_graphql_requests_total{operation="__typename",type="query"}'


def _answering_pids(folder: Path) -> set[str]:
    """The API processes that have counted a request (each keeps its counters in its own file)."""
    return {path.stem.removeprefix("counter_") for path in folder.glob("counter_*.db")}


@contextmanager
def two_api_processes(stack) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`spek serve` with two API processes: its URL, the process, and the folder of its metric files."""
    port = free_port()
    api = spek_process("serve", {**stack.env, "SPEK_PORT": str(port), "SPEK_API_WORKERS": "2"})
    base_url = f"http://127.0.0.1:{port}"
    try:
        poll_http(f"{base_url}/healthz", lambda r: r.status_code == 200, api)
        yield base_url, api, metrics_dir(stack.data_dir, api.pid)
    finally:
        api.terminate()
        wait_for_exit(api, 30)


def test_metrics_add_up_over_every_api_process(stack) -> None:
    with two_api_processes(stack) as (base_url, api, folder):
        workers = psutil.Process(api.pid).children()
        # Several fresh connections at once, until both processes have answered some.
        sent = 0

        def ask(_: int) -> None:
            answer = httpx.post(f"{base_url}/graphql", json={"query": "{ __typename }"}, timeout=30)
            assert answer.json() == {"data": {"__typename": "Query"}}

        with ThreadPoolExecutor(8) as pool:
            while len(_answering_pids(folder)) < 2 and sent < 800:
                list(pool.map(ask, range(8)))
                sent += 8
        assert len(_answering_pids(folder)) == 2, "one process answered every request"

        text = httpx.get(f"{base_url}/metrics").text
        assert f"{TYPENAME} {float(sent)}" in text, re.findall(rf"{re.escape(TYPENAME)} .*", text)
        # Read from Redis and the database at the scrape: reported once, not once per process.
        samples = [line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")]
        assert samples.count('spek_queue_depth{queue="spek:queue"}') == 1
        assert len(samples) == len(set(samples))
    assert api.returncode == 0
    assert not folder.exists()  # the metric files go with the processes
    _all_exit(workers)


def test_api_processes_stop_with_a_killed_supervisor(stack) -> None:
    """Killed outright, `spek serve` leaves no API process holding the port."""
    port = free_port()
    api = spek_process("serve", {**stack.env, "SPEK_PORT": str(port), "SPEK_API_WORKERS": "2"})
    try:
        poll_http(f"http://127.0.0.1:{port}/healthz", lambda r: r.status_code == 200, api)
        workers = psutil.Process(api.pid).children()
        assert len([w for w in workers if "spawn_main" in " ".join(w.cmdline())]) == 2
    finally:
        api.send_signal(signal.SIGKILL)
        api.wait(10)
    _all_exit(workers)


def test_a_second_server_on_the_same_port_is_refused(stack) -> None:
    """Each API process listens on a socket of its own (SO_REUSEPORT), yet the port is not shared with
    another `spek serve`."""
    port = free_port()
    env = {**stack.env, "SPEK_PORT": str(port), "SPEK_API_WORKERS": "2"}
    api = spek_process("serve", env)
    try:
        poll_http(f"http://127.0.0.1:{port}/healthz", lambda r: r.status_code == 200, api)
        second = spek_process("serve", env, stderr=subprocess.PIPE, text=True)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 3 and f"Cannot listen on 127.0.0.1:{port}" in err, err
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        api.terminate()
        wait_for_exit(api, 30)


def test_a_deleted_account_is_signed_out_of_every_process_at_once(stack) -> None:
    """Each API process keeps the rows of callers it has seen; a deletion on one reaches the others before
    it returns."""
    with two_api_processes(stack) as (base_url, _, folder):
        account = register(GraphQLClient(base_url))

        def me(_: int) -> dict:
            # A fresh connection each time: either process may answer.
            answer = httpx.post(
                f"{base_url}/graphql",
                json={"query": "{ me { id } }"},
                headers={"Authorization": f"Bearer {account.access_token}"},
                timeout=30,
            )
            return answer.json()

        with ThreadPoolExecutor(8) as pool:
            assert all(body == {"data": {"me": {"id": account.id}}} for body in pool.map(me, range(48)))
            assert len(_answering_pids(folder)) == 2, "one process answered every request"
            GraphQLClient(base_url).data(DELETE_ACCOUNT, {"p": account.password}, account.access_token)
            after = list(pool.map(me, range(48)))
        assert all(body.get("errors", [{}])[0].get("extensions", {}).get("code") == "UNAUTHENTICATED" for body in after)


def _all_exit(processes: list[psutil.Process]) -> None:
    deadline = time.monotonic() + 20
    while any(_running(process) for process in processes):
        assert time.monotonic() < deadline, "an API process outlived its supervisor"
        time.sleep(0.2)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
