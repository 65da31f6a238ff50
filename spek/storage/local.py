"""Objects as files in a local directory (the default: `<SPEK_DATA_DIR>/files`)."""

from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path

import anyio

from spek.storage.base import CHUNK_SIZE, check_range


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
        # Readers never see a half-written file: it gets its name only once complete.
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

    async def size(self, key: str) -> int:
        return (await anyio.Path(self._path(key)).stat()).st_size

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        check_range(start, end)
        async with await anyio.open_file(self._path(key), "rb") as source:
            await source.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = await source.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def close(self) -> None:
        """Nothing held open between calls."""
