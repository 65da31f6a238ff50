"""submitBatch / batch: several recordings at once, all or nothing, each with its own job."""

import json
import time
from pathlib import Path

import pytest

from tests.audio import reencode, speak
from tests.support import Account, GraphQLClient, sql

SUBMIT = """mutation($files: [Upload!]!, $input: RecordingInput) {
  submitBatch(files: $files, input: $input) { id status progress recordings { id title filename format status job { id } } }
}"""
BATCH = """query($id: ID!) { batch(id: $id) {
  id status progress createdAt recordings { id status transcript { text } }
} }"""


def submit(client: GraphQLClient, token: str, files: list[tuple[str, bytes]], input: dict | None = None) -> dict:
    response = client.http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": SUBMIT, "variables": {"files": [None] * len(files), "input": input}}),
            "map": json.dumps({str(i): [f"variables.files.{i}"] for i in range(len(files))}),
        },
        files={str(i): (name, content, "application/octet-stream") for i, (name, content) in enumerate(files)},
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "1"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def memos(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("batch")
    first = speak("Good morning. The first memo is about the budget.", folder / "budget.wav")
    second = speak("The second memo is about the garden.", folder / "garden.wav")
    return [first, reencode(second, folder / "garden.mp3", "mp3", "libmp3lame")]


def _user_rows(stack, account: Account) -> tuple[int, int]:
    [(recordings, batches)] = sql(
        stack.database_url,
        "SELECT (SELECT count(*) FROM recordings WHERE user_id = :u), (SELECT count(*) FROM batches WHERE user_id = :u)",
        u=account.id,
    )
    return recordings, batches


def test_a_batch_is_transcribed_file_by_file(client: GraphQLClient, alice: Account, memos: list[Path]) -> None:
    body = submit(
        client,
        alice.access_token,
        [(p.name, p.read_bytes()) for p in memos],
        {"language": "en", "quality": "FAST", "title": "Memos"},
    )
    batch = body["data"]["submitBatch"]
    assert [r["filename"] for r in batch["recordings"]] == ["budget.wav", "garden.mp3"]
    assert [r["title"] for r in batch["recordings"]] == ["Memos (1 of 2)", "Memos (2 of 2)"]
    assert [r["format"] for r in batch["recordings"]] == ["wav", "mp3"]
    assert len({r["job"]["id"] for r in batch["recordings"]}) == 2
    assert batch["status"] in ("QUEUED", "RUNNING") and batch["progress"] < 1

    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        state = client.data(BATCH, {"id": batch["id"]}, alice.access_token)["batch"]
        seen.append(state["progress"])
        if state["status"] == "COMPLETED":
            break
        time.sleep(0.5)
    assert state["status"] == "COMPLETED" and state["progress"] == 1.0
    assert seen == sorted(seen)
    texts = [r["transcript"]["text"].lower() for r in state["recordings"]]
    assert "budget" in texts[0] and "garden" in texts[1]


def test_one_unreadable_file_refuses_the_whole_batch(
    client: GraphQLClient, stack, alice: Account, memos: list[Path]
) -> None:
    before = _user_rows(stack, alice)
    body = submit(
        client,
        alice.access_token,
        [(memos[0].name, memos[0].read_bytes()), ("notes.mp3", b"these are my notes, not audio")],
    )
    assert body["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA"
    assert "notes.mp3" in body["errors"][0]["message"]
    assert _user_rows(stack, alice) == before
    assert not list((stack.data_dir / "tmp").glob("upload-*"))


def test_batch_size_is_limited(client: GraphQLClient, stack, alice: Account, memos: list[Path]) -> None:
    before = _user_rows(stack, alice)
    body = submit(client, alice.access_token, [(f"m{i}.wav", memos[0].read_bytes()) for i in range(11)])
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "1 to 10" in body["errors"][0]["message"]
    assert _user_rows(stack, alice) == before


def test_another_users_batch_does_not_exist(
    client: GraphQLClient, alice: Account, bob: Account, memos: list[Path]
) -> None:
    batch = submit(client, alice.access_token, [(memos[1].name, memos[1].read_bytes())], {"diarize": False})["data"][
        "submitBatch"
    ]
    assert client.error_code(BATCH, {"id": batch["id"]}, bob.access_token) == "NOT_FOUND"
    assert client.data(BATCH, {"id": batch["id"]}, alice.access_token)["batch"]["id"] == batch["id"]
