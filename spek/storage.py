"""Where uploaded files live. One small interface; a local directory is the default backend."""

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Protocol

import anyio

CHUNK_SIZE = 1024 * 1024


class Storage(Protocol):
    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks under key; return the number of bytes written."""

    def local_path(self, key: str) -> AbstractAsyncContextManager[Path]:
        """A readable local file with the stored bytes, for as long as the context lasts."""

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        written = 0
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in chunks:
                    await out.write(chunk)
                    written += len(chunk)
            partial.rename(path)
        finally:
            partial.unlink(missing_ok=True)
        return written

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        yield self._path(key)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)


async def file_chunks(path: Path, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as source:
        while chunk := await source.read(chunk_size):
            yield chunk


def storage_from_settings(data_dir: Path) -> LocalStorage:
    return LocalStorage(data_dir / "files")



