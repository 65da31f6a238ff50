"""Upload → worker → transcript, through the real API, queue, worker and Whisper model."""

import contextlib
import json
import os
import time
import uuid
from pathlib import Path

import numpy as np
import psutil
import pytest
from websockets.sync.client import connect

from tests.audio import SUPPORT_CALL, dialogue, reencode, speak, write_wav
from tests.support import PROGRESS, Account, GraphQLClient, follow, sql, upload

RECORDING = """query($id: ID!) { recording(id: $id) {
  id status job { status progress attempts finishedAt }
  transcript { id recordingId language languageProbability durationSeconds model text
    speakers { label name talkTimeSeconds }
    segments { id index start end speaker text words { start end text probability } } }
} }"""
SPEECH = "Hello world. This is a test of the transcription service. We record lectures and meetings."


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    return speak(SPEECH, tmp_path_factory.mktemp("audio") / "speech.wav")


def test_upload_is_transcribed_with_live_progress(client: GraphQLClient, stack, alice: Account, speech: Path) -> None:
    body = upload(client, alice.access_token, speech, {"title": "First memo", "language": "en"})
    recording = body["data"]["uploadRecording"]
    assert recording["title"] == "First memo" and recording["filename"] == "speech.wav"
    assert recording["format"] == "wav" and recording["sampleRate"] == 22050 and recording["channels"] == 1
    assert recording["sizeBytes"] == speech.stat().st_size
    assert 5 < recording["durationSeconds"] < 10
    assert recording["status"] in ("QUEUED", "RUNNING")

    events = follow(stack, alice.access_token, recording["job"]["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["status"] == "QUEUED"
    assert events[-1]["status"] == "COMPLETED" and events[-1]["progress"] == 1.0
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    stages = [e["stage"] for e in events if e["stage"]]
    assert list(dict.fromkeys(stages)) == [
        "decoding",
        "normalizing",
        "detecting speech",
        "transcribing",
        "diarizing",
        "saving",
        "indexing",
    ]

    done = client.data(RECORDING, {"id": recording["id"]}, alice.access_token)["recording"]
    assert done["status"] == "COMPLETED" and done["job"]["attempts"] == 1
    transcript = done["transcript"]
    assert transcript["language"] == "en" and transcript["recordingId"] == recording["id"]
    assert transcript["model"] == "base"
    text = transcript["text"].lower()
    for word in ("hello", "world", "test", "lectures", "meetings"):
        assert word in text, text
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert len(words) >= 12
    assert all(0 <= w["start"] <= w["end"] <= transcript["durationSeconds"] + 0.5 for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def test_language_is_detected_when_not_given(client: GraphQLClient, stack, alice: Account, speech: Path) -> None:
    recording = upload(client, alice.access_token, speech, {"quality": "FAST"})["data"]["uploadRecording"]
    assert follow(stack, alice.access_token, recording["job"]["id"])[-1]["status"] == "COMPLETED"
    transcript = client.data(RECORDING, {"id": recording["id"]}, alice.access_token)["recording"]["transcript"]
    assert transcript["language"] == "en" and transcript["languageProbability"] > 0.5


@pytest.mark.parametrize(
    ("name", "container", "codec", "options", "expected"),
    [
        ("memo.mp3", "mp3", "libmp3lame", {}, "mp3"),
        ("memo.flac", "flac", "flac", {}, "flac"),
        ("memo.ogg", "ogg", "libopus", {"rate": 48000}, "opus"),
        ("memo.webm", "webm", "libopus", {"rate": 48000}, "webm"),
        ("memo.m4a", "ipod", "aac", {}, "m4a"),
        ("clip.mp4", "mp4", "aac", {"video": True}, "mp4"),
        ("clip.mov", "mov", "aac", {"video": True}, "mov"),
    ],
)
def test_every_accepted_format(
    client: GraphQLClient, alice: Account, speech: Path, tmp_path: Path, name, container, codec, options, expected
) -> None:
    path = reencode(speech, tmp_path / name, container, codec, **options)
    # The extension says nothing: what counts is what is inside.
    recording = upload(client, alice.access_token, path, name="upload.bin")["data"]["uploadRecording"]
    assert recording["format"] == expected
    assert 5 < recording["durationSeconds"] < 10


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not audio", "not an audio file"),
        (b"ID3\x03\x00\x00\x00" + b"\x00" * 4000, "not an audio file"),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "not an audio file"),
    ],
)
def test_files_that_are_not_audio_are_refused_and_leave_nothing(
    client: GraphQLClient, stack, alice: Account, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "memo.mp3"
    path.write_bytes(content)
    before = sql(stack.database_url, "SELECT count(*) FROM recordings WHERE user_id = :u", u=alice.id)
    body = upload(client, alice.access_token, path)
    assert body["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA"
    assert message in body["errors"][0]["message"]
    assert sql(stack.database_url, "SELECT count(*) FROM recordings WHERE user_id = :u", u=alice.id) == before
    assert sql(stack.database_url, "SELECT count(*) FROM jobs WHERE user_id = :u", u=alice.id) == [(0,)]
    assert not list((stack.data_dir / "files").glob(f"recordings/{alice.id}/*"))
    assert not list((stack.data_dir / "tmp").glob("upload-*"))


def test_truncated_file_is_refused(client: GraphQLClient, alice: Account, speech: Path, tmp_path: Path) -> None:
    mp3 = reencode(speech, tmp_path / "memo.mp3", "mp3", "libmp3lame")
    truncated = tmp_path / "cut.mp3"
    truncated.write_bytes(mp3.read_bytes()[:300])
    assert upload(client, alice.access_token, truncated)["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA"


def test_oversize_upload_is_refused(client: GraphQLClient, stack, alice: Account, tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    big.write_bytes(b"\x00" * (6 * 1024 * 1024))  # the test stack's limit is 5 MB
    body = upload(client, alice.access_token, big)
    assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "5 MB" in body["errors"][0]["message"]
    assert not list((stack.data_dir / "tmp").glob("upload-*"))


def _api_open_files(stack) -> tuple[int, list[str]]:
    """The API process's open file descriptors, and those of them that are deleted files, once its deleted files
    are closed (a request closes its upload's files just after sending the answer) or 5 s have passed. Its
    stdin, stdout and stderr are left out: under pytest's capture they are pytest's own deleted files."""
    pid = stack.processes["serve"].pid
    deadline = time.monotonic() + 5
    while True:
        deleted = []
        for fd in set(os.listdir(f"/proc/{pid}/fd")) - {"0", "1", "2"}:
            with contextlib.suppress(FileNotFoundError):
                if (target := os.readlink(f"/proc/{pid}/fd/{fd}")).endswith(" (deleted)"):
                    deleted.append(target)
        if not deleted or time.monotonic() > deadline:
            return psutil.Process(pid).num_fds(), deleted
        time.sleep(0.05)


def test_uploads_release_their_temporary_files_at_once(
    client: GraphQLClient, stack, alice: Account, tmp_path: Path
) -> None:
    # Past 1 MB a multipart file is spooled to a deleted temporary file: each must be closed when its request
    # ends, not at some later garbage collection (three refused 300 MB uploads once held 900 MB of disk).
    big = tmp_path / "big.wav"
    big.write_bytes(b"\x00" * (6 * 1024 * 1024))  # the test stack's limit is 5 MB
    not_audio = tmp_path / "noise.mp3"
    not_audio.write_bytes(os.urandom(2 * 1024 * 1024))  # read to the end, then refused
    silence = write_wav(tmp_path / "silence.wav", np.zeros(16_000 * 70, dtype=np.float32))  # 2.2 MB, accepted
    assert upload(client, alice.access_token, big)["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    fds, deleted = _api_open_files(stack)  # after one, so whatever is opened once (thread pools) is there
    assert deleted == []

    for _ in range(20):
        assert upload(client, alice.access_token, big)["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    for _ in range(3):
        assert upload(client, alice.access_token, not_audio)["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA"
    for _ in range(2):
        recording = upload(client, alice.access_token, silence)["data"]["uploadRecording"]
        assert client.data(DELETE, {"id": recording["id"]}, alice.access_token)["deleteRecording"] is True

    fds_after, deleted_after = _api_open_files(stack)
    assert deleted_after == []
    assert fds_after <= fds + 2, (fds, fds_after)  # a connection or two may come and go


def test_bad_options_are_refused(client: GraphQLClient, alice: Account, speech: Path) -> None:
    for options, message in (
        ({"language": "klingon"}, "ISO 639-1"),
        ({"numSpeakers": 11}, "between 1 and 10"),
        ({"minSpeakers": 3, "maxSpeakers": 2}, "minSpeakers"),
        ({"notebookId": str(uuid.uuid4())}, "not found"),
    ):
        body = upload(client, alice.access_token, speech, options)
        assert message in body["errors"][0]["message"], body


def test_recordings_belong_to_their_owner(client: GraphQLClient, alice: Account, bob: Account, speech: Path) -> None:
    recording = upload(client, alice.access_token, speech)["data"]["uploadRecording"]
    assert client.error_code(RECORDING, {"id": recording["id"]}, bob.access_token) == "NOT_FOUND"
    assert client.data("{ recordings { id } }", token=bob.access_token)["recordings"] == []
    assert (
        client.error_code("query($id: ID!) { job(id: $id) { id } }", {"id": recording["job"]["id"]}, bob.access_token)
        == "NOT_FOUND"
    )
    mine = client.data("{ recordings(limit: 5) { id } }", token=alice.access_token)["recordings"]
    assert mine[0]["id"] == recording["id"]


CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status finishedAt } }"
RETRY = "mutation($id: ID!) { retryRecording(id: $id) { id status job { id status } } }"
DELETE = "mutation($id: ID!) { deleteRecording(id: $id) }"
LONG_SPEECH = " ".join(
    f"Part {n}. The committee met on Tuesday to discuss the budget, the schedule and the new library building."
    for n in range(1, 9)
)


def follow_until(stack, token: str, job_id: str, stage: str):
    """Open a subscription and read until an event of the given stage; return the open socket."""
    ws = connect(stack.base_url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"], legacy=True)
    ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
    ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"job": job_id}}}))
    while True:
        event = json.loads(ws.recv(timeout=120))["payload"]["data"]["jobProgress"]
        if event["stage"] == stage:
            return ws


def test_cancel_retry_and_delete(client: GraphQLClient, stack, alice: Account, bob: Account, tmp_path: Path) -> None:
    long = speak(LONG_SPEECH, tmp_path / "long.wav")
    recording = upload(client, alice.access_token, long)["data"]["uploadRecording"]
    job_id = recording["job"]["id"]

    ws = follow_until(stack, alice.access_token, job_id, "transcribing")
    assert client.error_code(CANCEL, {"id": job_id}, bob.access_token) == "NOT_FOUND"
    cancelled = client.data(CANCEL, {"id": job_id}, alice.access_token)["cancelJob"]
    assert cancelled["status"] == "CANCELLED" and cancelled["finishedAt"]
    rest = []
    while (message := json.loads(ws.recv(timeout=30)))["type"] != "complete":
        rest.append(message["payload"]["data"]["jobProgress"])
    ws.close()
    assert rest[-1]["status"] == "CANCELLED"
    assert client.error_code(CANCEL, {"id": job_id}, alice.access_token) == "CONFLICT"

    state = client.data(RECORDING, {"id": recording["id"]}, alice.access_token)["recording"]
    assert state["status"] == "CANCELLED" and state["transcript"] is None

    assert client.error_code(RETRY, {"id": recording["id"]}, bob.access_token) == "NOT_FOUND"
    retried = client.data(RETRY, {"id": recording["id"]}, alice.access_token)["retryRecording"]
    assert retried["job"]["id"] != job_id and retried["status"] in ("QUEUED", "RUNNING")
    assert client.error_code(RETRY, {"id": recording["id"]}, alice.access_token) == "CONFLICT"

    # Deleting while the retry runs cancels it and removes everything.
    assert client.error_code(DELETE, {"id": recording["id"]}, bob.access_token) == "NOT_FOUND"
    assert client.data(DELETE, {"id": recording["id"]}, alice.access_token)["deleteRecording"] is True
    assert client.error_code(RECORDING, {"id": recording["id"]}, alice.access_token) == "NOT_FOUND"
    assert (
        client.data("query($id: ID!) { job(id: $id) { status } }", {"id": retried["job"]["id"]}, alice.access_token)[
            "job"
        ]["status"]
        == "CANCELLED"
    )
    assert sql(stack.database_url, "SELECT count(*) FROM recordings WHERE id = :id", id=recording["id"]) == [(0,)]
    assert not list((stack.data_dir / "files").glob(f"recordings/{alice.id}/*"))


def test_two_speakers_are_told_apart(client: GraphQLClient, stack, alice: Account, tmp_path: Path) -> None:
    path, turns = dialogue(SUPPORT_CALL, tmp_path / "call.wav")
    recording = upload(client, alice.access_token, path, {"language": "en"})["data"]["uploadRecording"]
    stages = [e["stage"] for e in follow(stack, alice.access_token, recording["job"]["id"])]
    assert "diarizing" in stages
    transcript = client.data(RECORDING, {"id": recording["id"]}, alice.access_token)["recording"]["transcript"]
    assert [s["label"] for s in transcript["speakers"]] == ["SPEAKER_00", "SPEAKER_01"]
    assert all(s["name"] is None and s["talkTimeSeconds"] > 5 for s in transcript["speakers"])

    # Each reference turn's words go to one speaker, and the speaker alternates as the voices do.
    def speaker_at(t: float) -> str:
        return next(s["speaker"] for s in transcript["segments"] if s["start"] - 0.3 <= t <= s["end"] + 0.3)

    spoken = [speaker_at((start + end) / 2) for start, end, _ in turns]
    assert spoken == ["SPEAKER_00", "SPEAKER_01"] * 4, spoken
    for segment in transcript["segments"]:
        assert segment["end"] > segment["start"] and segment["text"] == " ".join(w["text"] for w in segment["words"])


def test_diarization_can_be_turned_off(client: GraphQLClient, stack, alice: Account, speech: Path) -> None:
    recording = upload(client, alice.access_token, speech, {"diarize": False, "quality": "FAST"})["data"][
        "uploadRecording"
    ]
    stages = [e["stage"] for e in follow(stack, alice.access_token, recording["job"]["id"])]
    assert "diarizing" not in stages
    transcript = client.data(RECORDING, {"id": recording["id"]}, alice.access_token)["recording"]["transcript"]
    assert transcript["speakers"] == [] and all(s["speaker"] is None for s in transcript["segments"])
