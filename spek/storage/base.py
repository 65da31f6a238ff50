"""The interface every storage backend implements, and what the backends share."""

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio

CHUNK_SIZE = 1024 * 1024


class Storage(Protocol):
    """Stored objects by key. Everything here is plaintext: encryption, when on, is a wrapper."""

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks under key, all or nothing; return the number of bytes written."""

    async def size(self, key: str) -> int:
        """The object's size in bytes; FileNotFoundError if there is none."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        """Bytes [start, end) of the object (to its end when end is None), in chunks.

        Like slicing a file: a range past the end gives what there is. FileNotFoundError if missing.
        """

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""

    async def close(self) -> None:
        """Release connections; called once at shutdown."""


class StorageError(RuntimeError):
    """The store cannot be used as configured: a missing bucket, refused credentials, a bad key."""


class IntegrityError(RuntimeError):
    """A stored object failed its check: modified, truncated, or encrypted under another key."""


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < 0):
        raise ValueError(f"byte range [{start}, {end}) has a negative bound")


async def file_chunks(path: Path, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as source:
        while chunk := await source.read(chunk_size):
            yield chunk
