"""One real Spek stack per test session: embedded PostgreSQL and Redis, the API, a worker and a chat worker."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from spek import migrate
from spek.embedded import EmbeddedPostgres, EmbeddedRedis, wait_for_exit
from tests.support import UNLIMITED, Account, GraphQLClient, free_port, register, spek_process, wait_until_ready


@dataclass
class Stack:
    data_dir: Path
    database_url: str
    redis_url: str
    base_url: str
    env: dict[str, str]
    postgres: EmbeddedPostgres
    # "serve", "worker", "chat worker"; a test that replaces one puts the new process here, to be stopped too.
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)


@contextmanager
def running_stack(data_dir: Path, **settings: str) -> Iterator[Stack]:
    """Embedded PostgreSQL and Redis, migrated, with the API, a worker and a chat worker; `settings` add to the
    environment."""
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
        processes["serve"] = spek_process("serve", env)
        processes["worker"] = spek_process("worker", env)
        processes["chat worker"] = spek_process("worker", env, ["--chat"])
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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("spek-data")) as running:
        yield running


@pytest.fixture(scope="session")
def client(stack: Stack) -> GraphQLClient:
    return GraphQLClient(stack.base_url)


@pytest.fixture(scope="module")
def owner(client: GraphQLClient) -> Account:
    """One account shared by a module's tests (with the transcript they work on)."""
    return register(client)


@pytest.fixture
def alice(client: GraphQLClient) -> Account:
    return register(client)


@pytest.fixture
def bob(client: GraphQLClient) -> Account:
    return register(client)
