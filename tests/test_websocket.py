"""Subscriptions over both WebSocket protocols, with auth from connection_init."""

import json
import threading
import uuid

import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from spek.accounts.models import User
from spek.db import create_engine, create_sessionmaker
from spek.jobs import service as jobs
from spek.jobs.models import JobStatus
from tests.support import Account, GraphQLClient, run_async

PROGRESS = "subscription($job: ID!, $after: Int) { jobProgress(jobId: $job, after: $after) { jobId seq status stage progress etaSeconds message at } }"


def ws_url(stack) -> str:
    return stack.base_url.replace("http://", "ws://") + "/graphql"


def open_socket(stack, protocol: str) -> ClientConnection:
    return connect(ws_url(stack), subprotocols=[protocol], open_timeout=10)


def init(ws: ClientConnection, payload: dict | None) -> dict:
    message = {"type": "connection_init"}
    if payload is not None:
        message["payload"] = payload
    ws.send(json.dumps(message))
    return json.loads(ws.recv(timeout=10))


class JobDriver:
    """Creates a job for a user and moves it along, as the worker will, through the real service."""

    def __init__(self, stack, user_id: str) -> None:
        self.stack, self.user_id = stack, uuid.UUID(user_id)
        self.job_id = run_async(self._create())

    async def _create(self) -> uuid.UUID:
        engine = create_engine(self.stack.database_url)
        async with create_sessionmaker(engine)() as session:
            job = await jobs.create_job(session, await session.get_one(User, self.user_id), "transcription")
            await session.commit()
            job_id = job.id
        await engine.dispose()
        return job_id

    def report(self, **changes) -> int:
        async def run() -> int:
            engine, redis = create_engine(self.stack.database_url), Redis.from_url(self.stack.redis_url)
            try:
                async with create_sessionmaker(engine)() as session:
                    user = await session.get_one(User, self.user_id)
                    return await jobs.report(session, redis, await jobs.get_job(session, user, self.job_id), **changes)
            finally:
                await redis.aclose()
                await engine.dispose()

        return run_async(run())


@pytest.mark.parametrize("payload", [None, {}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}])
def test_transport_ws_without_a_valid_token_closes_4403(stack, payload) -> None:
    with open_socket(stack, "graphql-transport-ws") as ws:
        ws.send(json.dumps({"type": "connection_init", **({"payload": payload} if payload is not None else {})}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4403


def test_transport_ws_refuses_subscribe_before_init(stack, alice: Account) -> None:
    with open_socket(stack, "graphql-transport-ws") as ws:
        ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"job": str(uuid.uuid4())}},
                }
            )
        )
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4401


def test_legacy_ws_without_a_valid_token_gets_connection_error(stack) -> None:
    with open_socket(stack, "graphql-ws") as ws:
        reply = init(ws, {"Authorization": "Bearer nonsense"})
        assert reply["type"] == "connection_error"


def test_job_progress_replays_then_follows_live(stack, alice: Account) -> None:
    driver = JobDriver(stack, alice.id)
    driver.report(status=JobStatus.RUNNING, stage="decoding", progress=0.1, message="decoding audio")
    driver.report(stage="transcribing", progress=0.4, eta_seconds=12.0)
    with open_socket(stack, "graphql-transport-ws") as ws:
        assert init(ws, {"Authorization": f"Bearer {alice.access_token}"})["type"] == "connection_ack"
        ws.send(
            json.dumps(
                {
                    "id": "p",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"job": str(driver.job_id)}},
                }
            )
        )
        replayed = [json.loads(ws.recv(timeout=10))["payload"]["data"]["jobProgress"] for _ in range(2)]
        assert [e["seq"] for e in replayed] == [1, 2]
        assert [e["stage"] for e in replayed] == ["decoding", "transcribing"]
        assert replayed[0]["message"] == "decoding audio" and replayed[1]["etaSeconds"] == 12.0

        # A report that tries to go backwards keeps the progress where it was.
        threading.Thread(
            target=lambda: (
                driver.report(stage="diarizing", progress=0.3),
                driver.report(status=JobStatus.COMPLETED, stage="saving"),
            )
        ).start()
        live = [json.loads(ws.recv(timeout=15))["payload"]["data"]["jobProgress"] for _ in range(2)]
        assert [e["seq"] for e in live] == [3, 4]
        assert live[0]["progress"] == 0.4
        assert live[1]["status"] == "COMPLETED" and live[1]["progress"] == 1.0 and live[1]["etaSeconds"] is None
        assert json.loads(ws.recv(timeout=10)) == {"id": "p", "type": "complete"}

        # A late subscriber asking for what came after seq 2 gets exactly the rest, then completion.
        ws.send(
            json.dumps(
                {
                    "id": "late",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"job": str(driver.job_id), "after": 2}},
                }
            )
        )
        rest = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
        assert [m["payload"]["data"]["jobProgress"]["seq"] for m in rest[:2]] == [3, 4]
        assert rest[2] == {"id": "late", "type": "complete"}


def test_job_query_shows_the_row(client: GraphQLClient, stack, alice: Account, bob: Account) -> None:
    driver = JobDriver(stack, alice.id)
    driver.report(status=JobStatus.RUNNING, stage="decoding", progress=0.25)
    query = "query($id: ID!) { job(id: $id) { id kind status stage progress attempts startedAt finishedAt } }"
    job = client.data(query, {"id": str(driver.job_id)}, alice.access_token)["job"]
    assert job["kind"] == "transcription" and job["status"] == "RUNNING" and job["progress"] == 0.25
    assert job["startedAt"] is not None and job["finishedAt"] is None
    assert client.error_code(query, {"id": str(driver.job_id)}, bob.access_token) == "NOT_FOUND"


def test_another_users_job_cannot_be_followed(stack, alice: Account, bob: Account) -> None:
    driver = JobDriver(stack, alice.id)
    for protocol, start, next_type in (
        ("graphql-transport-ws", "subscribe", "error"),
        ("graphql-ws", "start", "error"),
    ):
        with open_socket(stack, protocol) as ws:
            assert init(ws, {"Authorization": f"Bearer {bob.access_token}"})["type"] == "connection_ack"
            ws.send(
                json.dumps(
                    {"id": "x", "type": start, "payload": {"query": PROGRESS, "variables": {"job": str(driver.job_id)}}}
                )
            )
            reply = json.loads(ws.recv(timeout=10))
            if reply["type"] == "next" or reply["type"] == "data":
                errors = reply["payload"]["errors"]
            else:
                assert reply["type"] == next_type, reply
                errors = reply["payload"] if isinstance(reply["payload"], list) else reply["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "NOT_FOUND"


def test_legacy_protocol_streams_job_progress(stack, alice: Account) -> None:
    driver = JobDriver(stack, alice.id)
    driver.report(status=JobStatus.RUNNING, stage="decoding", progress=0.5)
    driver.report(status=JobStatus.FAILED, error="the file has no audio track")
    with open_socket(stack, "graphql-ws") as ws:
        assert init(ws, {"Authorization": f"Bearer {alice.access_token}"})["type"] == "connection_ack"
        ws.send(
            json.dumps(
                {"id": "1", "type": "start", "payload": {"query": PROGRESS, "variables": {"job": str(driver.job_id)}}}
            )
        )
        messages = []
        while not messages or messages[-1]["type"] != "complete":
            message = json.loads(ws.recv(timeout=10))
            if message["type"] != "ka":
                messages.append(message)
        events = [m["payload"]["data"]["jobProgress"] for m in messages[:-1]]
        assert [(e["seq"], e["status"]) for e in events] == [(1, "RUNNING"), (2, "FAILED")]


def test_a_finished_job_whose_events_expired_still_ends_the_subscription(stack, alice: Account) -> None:
    driver = JobDriver(stack, alice.id)
    driver.report(status=JobStatus.RUNNING, stage="decoding", progress=0.5)
    driver.report(status=JobStatus.COMPLETED, stage="saving")

    async def expire() -> None:
        redis = Redis.from_url(stack.redis_url)
        await redis.delete(f"job:{driver.job_id}", f"job:{driver.job_id}:seq")
        await redis.aclose()

    run_async(expire())
    with open_socket(stack, "graphql-transport-ws") as ws:
        assert init(ws, {"Authorization": f"Bearer {alice.access_token}"})["type"] == "connection_ack"
        ws.send(
            json.dumps(
                {
                    "id": "old",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"job": str(driver.job_id)}},
                }
            )
        )
        event = json.loads(ws.recv(timeout=10))["payload"]["data"]["jobProgress"]
        assert event["status"] == "COMPLETED" and event["progress"] == 1.0 and event["seq"] == 1
        assert json.loads(ws.recv(timeout=10)) == {"id": "old", "type": "complete"}


def test_a_reader_resuming_past_a_restored_redis_still_learns_how_the_stream_ended(stack) -> None:
    """Redis restored from an older snapshot numbers new events again from the snapshot's seq: a subscriber
    resuming with the `after` it saw before the loss would skip them all, the final one too, and never learn the
    job's end. It gets the final event whatever its seq."""
    from spek import streams

    key = f"test:restored:{uuid.uuid4()}"

    async def scenario() -> list[tuple[int, dict]]:
        redis = Redis.from_url(stack.redis_url)
        try:
            for n in (1, 2):  # what the snapshot holds
                await streams.append(redis, key, {"n": n}, final=False, retention_seconds=60)
            for n in (3, 4):  # seen by the subscriber, then lost with Redis
                await streams.append(redis, key, {"n": n}, final=False, retention_seconds=60)
            await redis.delete(key, key + ":seq")
            for n in (1, 2):
                await streams.append(redis, key, {"n": n}, final=False, retention_seconds=60)
            await streams.append(redis, key, {"n": "done"}, final=True, retention_seconds=60)  # seq 3 again
            return [event async for event in streams.follow(redis, key, after=4)]
        finally:
            await redis.aclose()

    assert run_async(scenario()) == [(3, {"n": "done"})]
