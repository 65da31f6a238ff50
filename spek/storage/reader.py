"""A stored object as a plain seekable file, for blocking code such as PyAV in a worker thread.

The bytes never touch the disk (with encryption on, plaintext must not): each read is served from
a window fetched from storage on the event loop, so memory stays bounded whatever the file's size.
"""

import io
from contextlib import aclosing

import anyio.from_thread
from typing_extensions import Buffer

from spek.storage.base import Storage

WINDOW = 1024 * 1024


class SyncReader(io.RawIOBase):
    """Read-only and seekable. Use it only in a thread started by `anyio.to_thread.run_sync`."""

    def __init__(self, storage: Storage, key: str, window: int = WINDOW) -> None:
        super().__init__()
        self.storage = storage
        self.key = key
        self.window = window
        self._position = 0
        self._size: int | None = None
        self._buffer = b""
        self._buffer_start = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def size(self) -> int:
        if self._size is None:
            self._size = anyio.from_thread.run(self.storage.size, self.key)
        return self._size

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.closed:
            raise ValueError("seek on a closed file")
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.size() + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def readinto(self, buffer: Buffer) -> int:
        if self.closed:
            raise ValueError("read from a closed file")
        if self._size is not None and self._position >= self._size:
            return 0
        offset = self._position - self._buffer_start
        if not 0 <= offset < len(self._buffer):
            self._buffer = anyio.from_thread.run(self._fetch, self._position)
            self._buffer_start, offset = self._position, 0
        target = memoryview(buffer).cast("B")
        count = min(len(target), len(self._buffer) - offset)
        target[:count] = self._buffer[offset : offset + count]
        self._position += count
        return count

    async def _fetch(self, start: int) -> bytes:
        async with aclosing(self.storage.read(self.key, start, start + self.window)) as stream:
            return b"".join([piece async for piece in stream])
