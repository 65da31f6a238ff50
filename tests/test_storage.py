"""File storage: the same behaviour from a local directory and from S3 (moto), plain and encrypted."""

import base64
import io
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import anyio
import boto3
import numpy as np
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from spek.embedded import wait_for_exit
from spek.media import decode_mono_16k
from spek.settings import Settings
from spek.storage import (
    EncryptedStorage,
    IntegrityError,
    LocalStorage,
    Storage,
    StorageError,
    SyncReader,
    create_storage,
)
from spek.storage.encryption import HEADER_SIZE, PLAIN_CHUNK, SEALED_CHUNK, TAG_SIZE
from spek.storage.s3 import S3Storage
from tests.audio import reencode, speak, write_wav
from tests.support import GraphQLClient, follow, free_port, register, run_async, spek_process, upload, wait_until_ready

T = TypeVar("T")
KEY = os.urandom(32)
KEY_B64 = base64.b64encode(KEY).decode()
# More than two encryption chunks and not a multiple of one.
DATA = os.urandom(3 * PLAIN_CHUNK + 1234)
MiB = 1024 * 1024
TRANSCRIPT = "query($id: ID!) { recording(id: $id) { transcript { text } } }"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto in server mode) on a loopback port, with the credentials botocore reads."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "spek-test")
        env.setenv("AWS_SECRET_ACCESS_KEY", "spek-test-secret")
        yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """The settings (and botocore credentials) of a Spek process storing in that bucket."""
    return {
        "SPEK_STORAGE": "s3",
        "SPEK_S3_BUCKET": bucket,
        "SPEK_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
    }


def new_bucket(endpoint: str) -> str:
    name = f"spek-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


@dataclass
class Backend:
    settings: Settings
    leftovers: Callable[[], list[str]]  # everything stored, finished or not

    def run(self, scenario: Callable[[Storage], Awaitable[T]], settings: Settings | None = None) -> T:
        """Run the scenario on a storage made from the settings, in one event loop."""

        async def main() -> T:
            storage = create_storage(settings or self.settings)
            try:
                return await scenario(storage)
            finally:
                await storage.close()

        return run_async(main())

    def raw(self) -> "Backend":
        """The same place without encryption: what is really stored."""
        return Backend(self.settings.model_copy(update={"encryption_key": None}), self.leftovers)


def local_backend(tmp_path: Path, key: str | None) -> Backend:
    settings = Settings(SPEK_DATA_DIR=tmp_path, SPEK_STORAGE="local", SPEK_ENCRYPTION_KEY=key)
    return Backend(settings, lambda: sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()))


def s3_backend(endpoint: str, key: str | None, bucket: str | None = None, prefix: str = "") -> Backend:
    bucket = bucket or new_bucket(endpoint)
    settings = Settings(
        SPEK_STORAGE="s3",
        SPEK_S3_BUCKET=bucket,
        SPEK_S3_ENDPOINT_URL=endpoint,
        SPEK_S3_PREFIX=prefix,
        SPEK_ENCRYPTION_KEY=key,
    )

    def leftovers() -> list[str]:
        s3 = s3_client(endpoint)
        objects = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        uploads = [f"upload of {u['Key']}" for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
        return objects + uploads

    return Backend(settings, leftovers)


@pytest.fixture(params=["local", "s3", "local+encrypted", "s3+encrypted"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    key = KEY_B64 if request.param.endswith("+encrypted") else None
    if request.param.startswith("s3"):
        return s3_backend(request.getfixturevalue("s3_endpoint"), key)
    return local_backend(tmp_path, key)


@pytest.fixture(params=["local", "s3"])
def encrypted(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "s3":
        return s3_backend(request.getfixturevalue("s3_endpoint"), KEY_B64)
    return local_backend(tmp_path, KEY_B64)


async def pieces(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    """Uneven upload chunks: they never line up with the encryption chunks."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([piece async for piece in storage.read(key, start, end)])


async def store(storage: Storage, key: str, data: bytes) -> None:
    assert await storage.write(key, pieces(data)) == len(data)


def test_round_trip_of_a_multi_chunk_file(backend: Backend) -> None:
    async def scenario(storage: Storage) -> None:
        assert await storage.write("recordings/a/b", pieces(DATA)) == len(DATA)
        assert await storage.size("recordings/a/b") == len(DATA)
        assert await read_all(storage, "recordings/a/b") == DATA

    backend.run(scenario)


def test_a_file_larger_than_one_upload_part(backend: Backend) -> None:
    """On S3 this goes up as a multipart upload; read back it is the same bytes."""
    data = os.urandom(11 * MiB + 7)

    async def scenario(storage: Storage) -> None:
        await store(storage, "big", data)
        assert await storage.size("big") == len(data)
        assert await read_all(storage, "big") == data
        assert await read_all(storage, "big", 9 * MiB, 9 * MiB + 10) == data[9 * MiB : 9 * MiB + 10]

    backend.run(scenario)


def test_empty_file(backend: Backend) -> None:
    async def scenario(storage: Storage) -> None:
        await store(storage, "empty", b"")
        assert await storage.size("empty") == 0
        assert await read_all(storage, "empty") == b""
        assert await read_all(storage, "empty", 0, 10) == b""

    backend.run(scenario)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 1),
        (PLAIN_CHUNK - 1, PLAIN_CHUNK + 1),  # across a chunk boundary
        (PLAIN_CHUNK, 2 * PLAIN_CHUNK),  # exactly one chunk
        (2 * PLAIN_CHUNK - 1, 2 * PLAIN_CHUNK),  # the last byte of a chunk
        (3 * PLAIN_CHUNK, None),  # the short last chunk
        (len(DATA) - 1, len(DATA)),  # the last byte
        (len(DATA) - 1, None),
        (PLAIN_CHUNK + 5, len(DATA) + 100),  # past the end: what there is
        (len(DATA), None),
        (len(DATA) + 10, len(DATA) + 20),
        (7, 7),
    ],
)
def test_range_reads(backend: Backend, start: int, end: int | None) -> None:
    async def scenario(storage: Storage) -> None:
        await store(storage, "r", DATA)
        assert await read_all(storage, "r", start, end) == DATA[start:end]

    backend.run(scenario)


def test_missing_and_deleted_objects(backend: Backend) -> None:
    async def scenario(storage: Storage) -> None:
        with pytest.raises(FileNotFoundError):
            await storage.size("nothing/here")
        with pytest.raises(FileNotFoundError):
            await read_all(storage, "nothing/here")
        with pytest.raises(FileNotFoundError):
            await read_all(storage, "nothing/here", 3, 3)
        await storage.delete("nothing/here")  # fine

        await store(storage, "gone", DATA)
        await storage.delete("gone")
        with pytest.raises(FileNotFoundError):
            await storage.size("gone")
        with pytest.raises(FileNotFoundError):
            await read_all(storage, "gone", 10, 20)

    backend.run(scenario)
    assert backend.leftovers() == []


def test_a_failed_write_leaves_nothing_behind(backend: Backend) -> None:
    """The upload source breaks after more than one S3 part: no object, no pending upload, no partial file."""

    async def breaks_midway() -> AsyncIterator[bytes]:
        for _ in range(11):
            yield os.urandom(MiB)
        raise ConnectionResetError("client went away")

    async def scenario(storage: Storage) -> None:
        with pytest.raises(ConnectionResetError):
            await storage.write("recordings/u/broken", breaks_midway())
        with pytest.raises(FileNotFoundError):
            await storage.size("recordings/u/broken")

    backend.run(scenario)
    assert backend.leftovers() == []


def test_a_failed_overwrite_keeps_the_old_object(backend: Backend) -> None:
    async def breaks() -> AsyncIterator[bytes]:
        yield b"new"
        raise ConnectionResetError

    async def scenario(storage: Storage) -> None:
        await store(storage, "k", DATA)
        with pytest.raises(ConnectionResetError):
            await storage.write("k", breaks())
        assert await read_all(storage, "k") == DATA

    backend.run(scenario)


def test_encrypted_objects_do_not_contain_the_plaintext(encrypted: Backend) -> None:
    plaintext = b"the minutes of a confidential board meeting. " * 5000

    encrypted.run(lambda storage: store(storage, "secret", plaintext))
    raw = encrypted.raw().run(lambda storage: read_all(storage, "secret"))
    chunks = -(-len(plaintext) // PLAIN_CHUNK)
    assert len(raw) == HEADER_SIZE + len(plaintext) + chunks * TAG_SIZE
    assert b"confidential" not in raw and plaintext[:PLAIN_CHUNK] not in raw
    # Two stores of the same file look unrelated (a fresh nonce per object).
    encrypted.run(lambda storage: store(storage, "again", plaintext))
    again = encrypted.raw().run(lambda storage: read_all(storage, "again"))
    assert raw[HEADER_SIZE : HEADER_SIZE + 64] != again[HEADER_SIZE : HEADER_SIZE + 64]


def test_without_a_key_objects_are_stored_as_they_are(tmp_path: Path) -> None:
    plain = local_backend(tmp_path, None)
    plain.run(lambda storage: store(storage, "recordings/u/r", DATA))
    assert (tmp_path / "files" / "recordings" / "u" / "r").read_bytes() == DATA


def test_an_object_stored_before_encryption_was_turned_on_is_refused(encrypted: Backend) -> None:
    encrypted.raw().run(lambda storage: store(storage, "old", DATA))

    async def scenario(storage: Storage) -> None:
        with pytest.raises(IntegrityError, match="not encrypted"):
            await read_all(storage, "old")

    encrypted.run(scenario)


def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]


TAMPERING = {
    "a flipped ciphertext byte": lambda raw: _flip(raw, HEADER_SIZE + SEALED_CHUNK + 100),
    "a flipped tag byte": lambda raw: _flip(raw, len(raw) - 1),
    "a flipped nonce byte in the header": lambda raw: _flip(raw, HEADER_SIZE - 1),
    "the last chunk dropped": lambda raw: raw[: HEADER_SIZE + 3 * SEALED_CHUNK],
    "truncated inside a chunk": lambda raw: raw[: HEADER_SIZE + SEALED_CHUNK + 500],
    "truncated to its header": lambda raw: raw[:HEADER_SIZE],
    "bytes appended": lambda raw: raw + b"\x00" * 20,
    "a whole chunk appended": lambda raw: raw + raw[HEADER_SIZE : HEADER_SIZE + SEALED_CHUNK],
    "two chunks swapped": lambda raw: (
        raw[:HEADER_SIZE]
        + raw[HEADER_SIZE + SEALED_CHUNK : HEADER_SIZE + 2 * SEALED_CHUNK]
        + raw[HEADER_SIZE : HEADER_SIZE + SEALED_CHUNK]
        + raw[HEADER_SIZE + 2 * SEALED_CHUNK :]
    ),
}


@pytest.mark.parametrize("tamper", TAMPERING)
def test_tampering_is_detected(encrypted: Backend, tamper: str) -> None:
    encrypted.run(lambda storage: store(storage, "t", DATA))
    raw = encrypted.raw().run(lambda storage: read_all(storage, "t"))
    encrypted.raw().run(lambda storage: store(storage, "t", TAMPERING[tamper](raw)))

    async def scenario(storage: Storage) -> None:
        with pytest.raises(IntegrityError):
            await read_all(storage, "t")

    encrypted.run(scenario)


def test_a_damaged_chunk_fails_only_the_reads_that_cover_it(encrypted: Backend) -> None:
    encrypted.run(lambda storage: store(storage, "t", DATA))
    raw = encrypted.raw().run(lambda storage: read_all(storage, "t"))
    encrypted.raw().run(lambda storage: store(storage, "t", _flip(raw, HEADER_SIZE + 2 * SEALED_CHUNK + 10)))

    async def scenario(storage: Storage) -> None:
        assert await read_all(storage, "t", 0, 2 * PLAIN_CHUNK) == DATA[: 2 * PLAIN_CHUNK]
        with pytest.raises(IntegrityError, match="chunk 2"):
            await read_all(storage, "t", 2 * PLAIN_CHUNK - 1, 2 * PLAIN_CHUNK + 1)

    encrypted.run(scenario)


def test_the_wrong_key_is_detected(encrypted: Backend) -> None:
    encrypted.run(lambda storage: store(storage, "k", DATA))
    other = encrypted.settings.model_copy(update={"encryption_key": SecretStr(os.urandom(32).hex())})

    async def scenario(storage: Storage) -> None:
        with pytest.raises(IntegrityError, match="different SPEK_ENCRYPTION_KEY"):
            await read_all(storage, "k")

    encrypted.run(scenario, other)


@pytest.mark.parametrize(
    "written",
    [
        base64.b64encode(KEY).decode(),
        base64.urlsafe_b64encode(KEY).decode().rstrip("="),
        KEY.hex(),
        KEY.hex().upper(),
    ],
)
def test_the_key_can_be_written_as_base64_or_hex(tmp_path: Path, written: str) -> None:
    local_backend(tmp_path, KEY_B64).run(lambda storage: store(storage, "k", DATA))
    assert local_backend(tmp_path, written).run(lambda storage: read_all(storage, "k")) == DATA


@pytest.mark.parametrize(
    "bad",
    [
        "hunter2",
        base64.b64encode(os.urandom(16)).decode(),
        os.urandom(31).hex(),
        "z" * 64,
        base64.b64encode(os.urandom(33)).decode(),
    ],
)
def test_a_bad_key_is_refused_with_how_to_make_one(tmp_path: Path, bad: str) -> None:
    with pytest.raises(StorageError, match="32 random bytes") as error:
        create_storage(Settings(SPEK_DATA_DIR=tmp_path, SPEK_ENCRYPTION_KEY=bad))
    assert "secrets.token_bytes(32)" in str(error.value)
    assert bad not in str(error.value)  # a mistyped real key stays out of logs


def test_a_bad_key_stops_the_worker_at_start(tmp_path: Path) -> None:
    env = {
        "SPEK_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "SPEK_ENCRYPTION_KEY": "not-a-key",
    }
    process = spek_process("worker", env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "SPEK_ENCRYPTION_KEY must be 32 random bytes" in output and "secrets.token_bytes(32)" in output


def test_create_storage_follows_the_settings(tmp_path: Path) -> None:
    local = create_storage(Settings(SPEK_DATA_DIR=tmp_path))
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "files"
    unset = create_storage(Settings(SPEK_DATA_DIR=tmp_path, SPEK_ENCRYPTION_KEY=""))  # as docker-compose.yml passes it
    assert isinstance(unset, LocalStorage)

    s3 = create_storage(
        Settings(SPEK_STORAGE="s3", SPEK_S3_BUCKET="media", SPEK_S3_PREFIX="spek/", SPEK_S3_REGION="eu-west-1")
    )
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix, s3.region, s3.endpoint_url) == (
        "media",
        "spek/",
        "eu-west-1",
        None,
    )

    wrapped = create_storage(Settings(SPEK_STORAGE="s3", SPEK_S3_BUCKET="media", SPEK_ENCRYPTION_KEY=KEY_B64))
    assert isinstance(wrapped, EncryptedStorage) and isinstance(wrapped.inner, S3Storage)

    with pytest.raises(StorageError, match="SPEK_S3_BUCKET"):
        create_storage(Settings(SPEK_STORAGE="s3"))
    with pytest.raises(ValueError, match="SPEK_STORAGE"):
        Settings(SPEK_STORAGE="ftp")


def test_the_s3_prefix_goes_in_front_of_every_key(s3_endpoint: str) -> None:
    backend = s3_backend(s3_endpoint, None, prefix="/tenant-a/")
    backend.run(lambda storage: store(storage, "recordings/u/r", b"hello"))
    assert backend.leftovers() == ["tenant-a/recordings/u/r"]


def test_a_missing_bucket_is_named(s3_endpoint: str) -> None:
    backend = s3_backend(s3_endpoint, None, bucket="no-such-bucket")

    async def scenario(storage: Storage) -> None:
        with pytest.raises(StorageError, match=f"bucket 'no-such-bucket' at {s3_endpoint} does not exist"):
            await store(storage, "k", b"x")

    backend.run(scenario)


def test_a_storage_key_cannot_escape_the_local_root(tmp_path: Path) -> None:
    async def scenario(storage: Storage) -> None:
        with pytest.raises(ValueError, match="escapes"):
            await store(storage, "../outside", b"x")

    local_backend(tmp_path / "data", None).run(scenario)
    assert not (tmp_path / "outside").exists()


def in_thread(backend: Backend, work: Callable[[Storage], T]) -> T:
    """Run blocking work with the storage in a worker thread, as the pipeline does."""

    async def scenario(storage: Storage) -> T:
        return await anyio.to_thread.run_sync(work, storage)

    return backend.run(scenario)


def test_sync_reader_reads_and_seeks_like_a_file(backend: Backend) -> None:
    backend.run(lambda storage: store(storage, "f", DATA))

    def work(storage: Storage) -> None:
        with SyncReader(storage, "f", window=50_000) as reader:
            assert reader.readable() and reader.seekable() and not reader.writable()
            assert reader.read(10) == DATA[:10] and reader.tell() == 10
            assert reader.seek(PLAIN_CHUNK - 5) == PLAIN_CHUNK - 5
            assert reader.read(10) == DATA[PLAIN_CHUNK - 5 : PLAIN_CHUNK + 5]
            assert reader.seek(-20, io.SEEK_CUR) == PLAIN_CHUNK - 15
            assert reader.read(5) == DATA[PLAIN_CHUNK - 15 : PLAIN_CHUNK - 10]
            assert reader.seek(-3, io.SEEK_END) == len(DATA) - 3
            assert reader.read() == DATA[-3:]
            assert reader.read(10) == b"" and reader.tell() == len(DATA)
            assert reader.seek(len(DATA) + 100) == len(DATA) + 100 and reader.read(1) == b""
            with pytest.raises(ValueError):
                reader.seek(-1)
            reader.seek(0)
            assert reader.read() == DATA  # across many windows
            assert io.BufferedReader(SyncReader(storage, "f", window=1000)).read(5000) == DATA[:5000]
        with pytest.raises(ValueError):
            reader.read(1)

    in_thread(backend, work)


def test_sync_reader_of_a_missing_object(backend: Backend) -> None:
    def work(storage: Storage) -> None:
        with pytest.raises(FileNotFoundError):
            SyncReader(storage, "missing").read(1)

    in_thread(backend, work)


@pytest.fixture(scope="module")
def m4a_moov_at_end(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 s of tones as AAC in an m4a whose index (moov atom) comes after the audio (mdat)."""
    folder = tmp_path_factory.mktemp("m4a")
    t = np.arange(40 * 16_000) / 16_000
    wav = write_wav(folder / "tones.wav", 0.3 * np.sin(2 * np.pi * (300 + 10 * t) * t))
    path = reencode(wav, folder / "tones.m4a", "ipod", "aac")
    data = path.read_bytes()
    assert data.index(b"mdat") < data.index(b"moov")
    return path


def test_pyav_decodes_through_sync_reader(backend: Backend, m4a_moov_at_end: Path) -> None:
    backend.run(lambda storage: store(storage, "tones.m4a", m4a_moov_at_end.read_bytes()))
    assert m4a_moov_at_end.stat().st_size > 3 * PLAIN_CHUNK

    def work(storage: Storage) -> np.ndarray:
        with SyncReader(storage, "tones.m4a", window=16 * 1024) as reader:
            return decode_mono_16k(reader)

    samples = in_thread(backend, work)
    assert np.array_equal(samples, decode_mono_16k(m4a_moov_at_end))
    assert 39.5 < len(samples) / 16_000 < 40.5


def test_decoding_a_tampered_recording_fails_with_the_integrity_error(
    encrypted: Backend, m4a_moov_at_end: Path
) -> None:
    encrypted.run(lambda storage: store(storage, "tones.m4a", m4a_moov_at_end.read_bytes()))
    raw = encrypted.raw().run(lambda storage: read_all(storage, "tones.m4a"))
    encrypted.raw().run(lambda storage: store(storage, "tones.m4a", _flip(raw, len(raw) - 100)))  # inside the moov atom

    def work(storage: Storage) -> np.ndarray:
        with SyncReader(storage, "tones.m4a") as reader:
            return decode_mono_16k(reader)

    with pytest.raises(IntegrityError, match="failed authentication"):
        in_thread(encrypted, work)


def test_an_encrypted_s3_deployment_transcribes_uploads(stack, s3_endpoint: str, tmp_path: Path) -> None:
    """End to end: upload over GraphQL, a worker decodes from encrypted S3, delete removes the object."""
    bucket = new_bucket(s3_endpoint)
    port = free_port()
    env = {
        **stack.env,
        "SPEK_PORT": str(port),
        "SPEK_QUEUE_NAME": f"spek:storage-test:{uuid.uuid4().hex[:8]}",  # not the stack's worker
        "SPEK_ENCRYPTION_KEY": KEY_B64,
        **s3_env(s3_endpoint, bucket),
    }
    processes = [spek_process("serve", env), spek_process("worker", env)]
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, processes[0])
        client = GraphQLClient(base_url)
        user = register(client)
        speech = speak("Encrypted storage keeps recordings private.", tmp_path / "memo.wav")
        memo = reencode(speech, tmp_path / "memo.m4a", "ipod", "aac")

        recording = upload(client, user.access_token, memo, {"language": "en"})["data"]["uploadRecording"]
        events = follow(SimpleNamespace(base_url=base_url), user.access_token, recording["job"]["id"])
        assert events[-1]["status"] == "COMPLETED", events[-1]
        text = client.data(TRANSCRIPT, {"id": recording["id"]}, user.access_token)["recording"]["transcript"][
            "text"
        ].lower()
        assert "storage" in text and "private" in text, text

        s3 = s3_client(s3_endpoint)
        [stored] = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert stored.startswith(f"recordings/{user.id}/")
        raw = s3.get_object(Bucket=bucket, Key=stored)["Body"].read()
        assert memo.read_bytes()[:PLAIN_CHUNK] not in raw and len(raw) > memo.stat().st_size

        client.data("mutation($id: ID!) { deleteRecording(id: $id) }", {"id": recording["id"]}, user.access_token)
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            wait_for_exit(process, 20)
