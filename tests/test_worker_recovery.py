"""Workers stop and die mid-job; no job is lost.

Each test runs its own API and workers on a queue of its own (the session's worker never sees these
jobs), against the session's real PostgreSQL and Redis.
"""

import re
import select
import signal
import socket
import socketserver
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from arq.constants import job_key_prefix

from spek.embedded import wait_for_exit
from tests.audio import SUPPORT_CALL, dialogue, speak
from tests.support import Account, GraphQLClient, follow, free_port, poll_http, register, spek_process, sql, upload
from tests.test_documents import upload_document
from tests.test_recordings import RECORDING
from tests.test_storage import new_bucket, s3_endpoint, s3_env  # noqa: F401, F811  (s3_endpoint: a fixture)

LEASE_SECONDS = 3


@dataclass
class Queue:
    client: GraphQLClient
    base_url: str
    env: dict[str, str]
    workers: list[subprocess.Popen]

    def start_worker(self) -> subprocess.Popen:
        worker = spek_process("worker", self.env)
        self.workers.append(worker)
        return worker


@pytest.fixture
def queue(stack) -> Iterator[Queue]:
    port = free_port()
    env = {
        **stack.env,
        "SPEK_PORT": str(port),
        "SPEK_QUEUE_NAME": f"spek:test-queue:{uuid.uuid4().hex[:8]}",
        "SPEK_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    api = spek_process("serve", env)
    base_url = f"http://127.0.0.1:{port}"
    queue = Queue(GraphQLClient(base_url), base_url, env, [])
    try:
        _wait_for_api(base_url, api)
        yield queue
    finally:
        for process in [api, *queue.workers]:
            if process.poll() is None:
                process.kill()
            wait_for_exit(process, 20)


def _wait_for_api(base_url: str, api: subprocess.Popen) -> None:
    # /readyz also wants a worker on this queue; the tests start theirs when they need one.
    poll_http(f"{base_url}/healthz", lambda r: r.status_code == 200, api)


@pytest.fixture(scope="module")
def call(tmp_path_factory) -> Path:
    # Long enough (about 30 s) that a worker can be stopped while it transcribes.
    path, _ = dialogue(SUPPORT_CALL * 2, tmp_path_factory.mktemp("audio") / "call.wav")
    return path


def _wait_for_job(stack, job_id: str, accept, timeout: float = 180) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = sql(stack.database_url, "SELECT status, stage, progress, attempts FROM jobs WHERE id = :id", id=job_id)[0]
        if accept(row):
            return row
        time.sleep(0.2)
    raise TimeoutError(f"job {job_id} never reached the expected state; last {row}")


def _start_transcribing(stack, queue: Queue, account: Account, audio: Path) -> tuple[dict, subprocess.Popen]:
    worker = queue.start_worker()
    recording = upload(queue.client, account.access_token, audio, {"language": "en"})["data"]["uploadRecording"]
    # Mid-job: Whisper is at work (it hands over a whole 30 s window's segments at once, so waiting for
    # progress within the stage could miss it).
    _wait_for_job(stack, recording["job"]["id"], lambda row: row[0] == "RUNNING" and row[1] == "transcribing")
    return recording, worker


def _assert_events_are_whole(stack, account: Account, job_id: str) -> list[dict]:
    events = follow(stack, account.access_token, job_id)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    assert events[-1]["status"] == "COMPLETED"
    return events


def test_a_job_whose_worker_is_killed_is_finished_by_another(stack, queue: Queue, call: Path) -> None:
    account = register(queue.client)
    recording, first = _start_transcribing(stack, queue, account, call)
    first.send_signal(signal.SIGKILL)
    wait_for_exit(first, 10)

    queue.start_worker()
    started = time.monotonic()
    _wait_for_job(stack, recording["job"]["id"], lambda row: row[0] == "COMPLETED")
    # The killed worker's lease lapses within LEASE_SECONDS; then the new worker redoes the job.
    assert time.monotonic() - started < 120

    _assert_events_are_whole(stack, account, recording["job"]["id"])
    done = queue.client.data(RECORDING, {"id": recording["id"]}, account.access_token)["recording"]
    assert done["job"]["attempts"] == 2
    assert "internet" in done["transcript"]["text"].lower()


def test_a_job_the_queue_lost_is_queued_again_and_never_run_twice(stack, queue: Queue) -> None:
    account = register(queue.client)
    body = upload_document(queue.client, account, "minutes.md", b"# Minutes\n\nThe ferry timetable changes in May.")
    job_id = body["data"]["uploadDocument"]["job"]["id"]
    # Redis loses the queue entry (a restart without its data, a flush) while the row says QUEUED.
    lost = redis.Redis.from_url(stack.redis_url)
    assert lost.delete(job_key_prefix + job_id) == 1 and lost.zrem(queue.env["SPEK_QUEUE_NAME"], job_id) == 1
    sql(stack.database_url, "UPDATE jobs SET created_at = now() - interval '5 minutes' WHERE id = :id", id=job_id)

    worker = queue.start_worker()  # its reconciler runs at start, then every minute
    assert _wait_for_job(stack, job_id, lambda row: row[0] == "COMPLETED", timeout=60)[3] == 1
    worker.send_signal(signal.SIGTERM)
    wait_for_exit(worker, 30)
    queue.start_worker()  # a finished job is not queued again
    time.sleep(5)
    assert sql(stack.database_url, "SELECT status, attempts FROM jobs WHERE id = :id", id=job_id) == [("COMPLETED", 1)]
    assert not lost.exists(job_key_prefix + job_id)


RETRY = "mutation($id: ID!) { retryRecording(id: $id) { id job { id status } } }"


def test_retry_recording_puts_a_stuck_job_back_in_the_queue(stack, queue: Queue, tmp_path: Path) -> None:
    account = register(queue.client)
    memo = speak("The queue lost this job and the retry found it.", tmp_path / "memo.wav")
    recording = upload(queue.client, account.access_token, memo, {"language": "en"})["data"]["uploadRecording"]
    job_id = recording["job"]["id"]
    # Waiting in the queue (no worker yet): a retry would start a second run, so it is refused.
    assert queue.client.error_code(RETRY, {"id": recording["id"]}, account.access_token) == "CONFLICT"

    lost = redis.Redis.from_url(stack.redis_url)
    assert lost.delete(job_key_prefix + job_id) == 1 and lost.zrem(queue.env["SPEK_QUEUE_NAME"], job_id) == 1
    sql(stack.database_url, "UPDATE jobs SET created_at = now() - interval '5 minutes' WHERE id = :id", id=job_id)
    retried = queue.client.data(RETRY, {"id": recording["id"]}, account.access_token)["retryRecording"]
    assert retried["job"] == {"id": job_id, "status": "QUEUED"}  # the same job, queued again at once
    assert lost.zscore(queue.env["SPEK_QUEUE_NAME"], job_id) is not None

    queue.start_worker()
    assert _wait_for_job(stack, job_id, lambda row: row[0] == "COMPLETED", timeout=120)[3] == 1


def test_sigterm_hands_the_job_back_and_another_worker_finishes_it(stack, queue: Queue, call: Path) -> None:
    account = register(queue.client)
    recording, first = _start_transcribing(stack, queue, account, call)
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 0
    # It stopped at Whisper's next segment and gave the job back instead of finishing the file.
    status, _, _, attempts = sql(
        stack.database_url,
        "SELECT status, stage, progress, attempts FROM jobs WHERE id = :id",
        id=recording["job"]["id"],
    )[0]
    assert status == "QUEUED"
    assert attempts == 0  # handing back is not a failed attempt

    queue.start_worker()
    _wait_for_job(stack, recording["job"]["id"], lambda row: row[0] == "COMPLETED")
    events = _assert_events_are_whole(stack, account, recording["job"]["id"])
    assert any(e["status"] == "QUEUED" and e["seq"] > 2 for e in events)  # the hand-back was announced
    done = queue.client.data(RECORDING, {"id": recording["id"]}, account.access_token)["recording"]
    assert done["job"]["attempts"] == 1


class FlakyProxy:
    """A TCP relay to a server, that can go down (connections refused) and come back on the same port."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._server: socketserver.ThreadingTCPServer | None = None

    def up(self) -> None:
        target_port = self.target_port

        class Relay(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(("127.0.0.1", target_port)) as upstream:
                    pair = {self.request: upstream, upstream: self.request}
                    while True:
                        readable, _, _ = select.select(list(pair), [], [], 30)
                        if not readable:
                            return
                        for source in readable:
                            data = source.recv(65536)
                            if not data:
                                return
                            pair[source].sendall(data)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Relay)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def test_a_transient_storage_outage_is_retried_with_backoff(stack, s3_endpoint: str, tmp_path: Path) -> None:  # noqa: F811
    """Object storage is unreachable when the worker starts the job: it retries later and succeeds."""
    proxy = FlakyProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    proxy.up()
    port = free_port()
    env = {
        **stack.env,
        "SPEK_PORT": str(port),
        "SPEK_QUEUE_NAME": f"spek:test-queue:{uuid.uuid4().hex[:8]}",
        **s3_env(f"http://127.0.0.1:{proxy.port}", new_bucket(s3_endpoint)),
        "SPEK_JOB_RETRY_BACKOFF_SECONDS": "2",
        "AWS_MAX_ATTEMPTS": "1",  # botocore's own retries would hide the outage from the job
    }
    processes = [spek_process("serve", env)]
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for_api(base_url, processes[0])
        client = GraphQLClient(base_url)
        account = register(client)
        memo = speak("The storage came back and the job went on.", tmp_path / "memo.wav")
        recording = upload(client, account.access_token, memo, {"language": "en"})["data"]["uploadRecording"]

        proxy.down()
        processes.append(spek_process("worker", env))
        _wait_for_job(stack, recording["job"]["id"], lambda row: row[0] == "QUEUED" and row[3] == 1, timeout=60)
        proxy.up()
        _wait_for_job(stack, recording["job"]["id"], lambda row: row[0] == "COMPLETED", timeout=120)

        events = follow(SimpleNamespace(base_url=base_url), account.access_token, recording["job"]["id"])
        retry = next(e for e in events if e["status"] == "QUEUED" and e["seq"] > 1)
        assert "trying again in 2 s (attempt 2 of 3)" in retry["message"]
        done = client.data(RECORDING, {"id": recording["id"]}, account.access_token)["recording"]
        assert done["job"]["attempts"] == 2 and "storage" in done["transcript"]["text"].lower()
        metrics = client.http.get("/metrics").text  # the workers' counts, read by the API from Redis
        assert re.search(r'spek_job_retries_total\{kind="transcription"\} [1-9]', metrics)
        assert re.search(
            r'spek_job_attempt_duration_seconds_count\{kind="transcription",outcome="retried"\} [1-9]', metrics
        )
    finally:
        proxy.down()
        for process in processes:
            process.terminate()
        for process in processes:
            wait_for_exit(process, 20)
