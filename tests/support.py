"""Helpers the tests share: a GraphQL client over real HTTP, and starting Spek's processes."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from starlette.routing import BaseRoute
from websockets.sync.client import connect

from spek import migrate
from spek.embedded import EmbeddedPostgres, EmbeddedRedis, wait_for_exit

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving_on_loopback(routes: list[BaseRoute]) -> Iterator[str]:
    """A Starlette app of `routes` served by uvicorn in a thread on a free loopback port (a fake of a service
    Spek talks to over HTTP); yields its base URL."""
    import uvicorn
    from starlette.applications import Starlette

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def poll_http(
    url: str, accept: Callable[[httpx.Response], bool], process: subprocess.Popen | None = None, timeout: float = 90
) -> httpx.Response:
    """GET url until a response passes `accept`; fail early if the server process dies."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited early with code {process.returncode}")
        try:
            last = httpx.get(url, timeout=5)
            if accept(last):
                return last
        except httpx.TransportError as e:
            last = e
        time.sleep(0.2)
    raise TimeoutError(f"{url}: gave up after {timeout}s; last answer {last!r} {getattr(last, 'text', '')}")


def wait_until_ready(base_url: str, process: subprocess.Popen | None = None, timeout: float = 90) -> None:
    poll_http(f"{base_url}/readyz", lambda r: r.status_code == 200, process, timeout)


# Tests sign up, sign in and ask far faster than people: the rate limits' own tests set theirs.
UNLIMITED = {
    f"SPEK_RATE_{name}": "1000000/minute"
    for name in ("LOGIN_IP", "LOGIN_FAILURES", "SIGNUP_IP", "REFRESH_IP", "UPLOADS", "CHAT", "REQUESTS", "GLOBAL")
}


def spek_process(
    command: str, env: dict[str, str], args_extra: list[str] | None = None, **kwargs: Any
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "spek", command, *(args_extra or [])], env={**os.environ, **env}, **kwargs
    )


@dataclass
class Stack:
    """A real Spek stack for tests and benchmarks: embedded PostgreSQL and Redis, the API, a worker and a chat
    worker."""

    data_dir: Path
    database_url: str
    redis_url: str
    base_url: str
    env: dict[str, str]
    postgres: EmbeddedPostgres
    # "serve", "worker", "chat worker"; a test that replaces one puts the new process here, to be stopped too.
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)


@contextmanager
def running_stack(data_dir: Path, log: IO[bytes] | None = None, **settings: str) -> Iterator[Stack]:
    """Embedded PostgreSQL and Redis, migrated, with the API, a worker and a chat worker; `settings` add to the
    environment; with `log`, the processes' output goes there."""
    postgres, redis = EmbeddedPostgres(data_dir / "postgres"), EmbeddedRedis(data_dir / "redis")
    processes: dict[str, subprocess.Popen] = {}
    try:
        database_url, redis_url = postgres.start(), redis.start()
        migrate.upgrade(database_url)
        port = free_port()
        env = {
            "SPEK_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SPEK_PORT": str(port),
            "SPEK_WORKER_HEARTBEAT_SECONDS": "2",
            "SPEK_MAX_UPLOAD_MB": "5",
            "SPEK_MAX_DOCUMENT_MB": "1",
            # Notes are asked for (regenerateNote) by the tests that want them: an LLM run after every
            # transcription would hold up the one worker.
            "SPEK_NOTES": "false",
            **UNLIMITED,
            **settings,
        }
        output = {"stdout": log, "stderr": log} if log is not None else {}
        processes["serve"] = spek_process("serve", env, **output)
        processes["worker"] = spek_process("worker", env, **output)
        processes["chat worker"] = spek_process("worker", env, ["--chat"], **output)
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, processes["serve"])
        yield Stack(data_dir, database_url, redis_url, base_url, env, postgres, processes)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            wait_for_exit(process, 20)
        redis.stop()
        postgres.stop()


class GraphQLClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def execute(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """The data of a request that must succeed."""
        body = self.execute(query, variables, token)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def error_code(self, query: str, variables: dict | None = None, token: str | None = None) -> str:
        """The code of the single error a request must fail with."""
        body = self.execute(query, variables, token)
        assert body.get("errors"), f"expected an error, got {body}"
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert len(codes) == 1, body["errors"]
        return codes.pop()


UPLOAD = """mutation($file: Upload!, $input: RecordingInput) {
  uploadRecording(file: $file, input: $input) { id title filename format sizeBytes durationSeconds sampleRate channels status job { id status } }
}"""
PROGRESS = "subscription($job: ID!) { jobProgress(jobId: $job) { seq status stage progress etaSeconds message } }"


def post_file(client: GraphQLClient, token: str, query: str, variables: dict, name: str, content: bytes) -> dict:
    """A GraphQL multipart request with one file as `variables.file`; the whole response body."""
    response = client.http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": {**variables, "file": None}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": (name, content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "1"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def upload(client: GraphQLClient, token: str, path: Path, input: dict | None = None, name: str | None = None) -> dict:
    """Upload a recording over GraphQL multipart; the whole response body."""
    return post_file(client, token, UPLOAD, {"input": input}, name or path.name, path.read_bytes())


def transcribed(client: "GraphQLClient", stack: Any, token: str, path: Path, input: dict | None = None) -> str:
    """Upload a file and wait for the worker to finish its transcript; the recording's id."""
    recording = upload(client, token, path, input)["data"]["uploadRecording"]
    assert follow(stack, token, recording["job"]["id"])[-1]["status"] == "COMPLETED"
    return recording["id"]


def follow(stack: Any, token: str, job_id: str) -> list[dict]:
    """Every progress event of a job, over graphql-transport-ws, until the subscription completes."""
    events, errors = subscribe(stack, token, PROGRESS, {"job": job_id})
    assert not errors, errors
    return [event["jobProgress"] for event in events]


def subscribe(
    stack: Any, token: str, query: str, variables: dict[str, Any], on_event: Callable[[dict], None] | None = None
) -> tuple[list[dict], list[dict]]:
    """The data of every event of a subscription over graphql-transport-ws until it completes, and its errors;
    `on_event` sees each event as it comes."""
    events: list[dict] = []
    with connect(stack.base_url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        while True:
            message = json.loads(ws.recv(timeout=120))
            if message["type"] == "complete":
                return events, []
            if message["type"] == "error":
                return events, message["payload"]
            assert message["type"] == "next", message
            if message["payload"].get("errors"):
                return events, message["payload"]["errors"]
            events.append(message["payload"]["data"])
            if on_event is not None:
                on_event(message["payload"]["data"])


REGISTER = """
mutation Register($email: String!, $password: String!, $displayName: String) {
  register(email: $email, password: $password, displayName: $displayName) {
    accessToken refreshToken tokenType expiresIn user { id email displayName }
  }
}
"""


@dataclass
class Account:
    email: str
    password: str
    id: str
    access_token: str
    refresh_token: str


def register(client: GraphQLClient, password: str = "correct horse battery") -> Account:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    payload = client.data(REGISTER, {"email": email, "password": password})["register"]
    return Account(email, password, payload["user"]["id"], payload["accessToken"], payload["refreshToken"])


def sql(database_url: str, statement: str, **params: Any) -> list[tuple]:
    """Run one SQL statement against the real database and return its rows."""
    from sqlalchemy import text

    from spek.db import create_engine

    async def run() -> list[tuple]:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return run_async(run())


def embedded(stack, account: Account) -> None:
    """Wait until the worker has embedded every entry of the account (they are searchable by words at once)."""
    deadline = time.monotonic() + 90
    while sql(
        stack.database_url, "SELECT count(*) FROM search_entries WHERE user_id = :u AND embedding IS NULL", u=account.id
    ) != [(0,)]:
        assert time.monotonic() < deadline, "the search index was not embedded in 90 s"
        time.sleep(0.5)
