"""What every upload shares, whatever it holds: the incoming bytes, where they go, the size limit."""

from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass
from pathlib import Path

import anyio
from arq.connections import ArqRedis

from spek.errors import PayloadTooLarge, UnsupportedMedia
from spek.storage import Storage


@dataclass
class UploadTools:
    """Where uploads go, and how big one may be."""

    queue: ArqRedis
    storage: Storage
    scratch_dir: Path
    max_upload_bytes: int


@dataclass
class IncomingFile:
    filename: str
    chunks: AsyncIterable[bytes]

    @property
    def safe_name(self) -> str:
        """The name without any path, as stored and shown."""
        return Path(self.filename or "upload").name[:255] or "upload"


async def spool(chunks: AsyncIterable[bytes], path: Path, limit_bytes: int) -> int:
    """Copy the upload to a scratch file chunk by chunk, refusing it as soon as it passes the limit."""
    size = 0
    try:
        async with await anyio.open_file(path, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit_bytes:
                    raise PayloadTooLarge(f"The file is larger than the {limit_bytes // (1024 * 1024)} MB limit.")
                await out.write(chunk)
    finally:
        # A generator left half-read (a refused upload) is finalized now, not by a later garbage collection.
        if isinstance(chunks, AsyncGenerator):
            await chunks.aclose()
    if size == 0:
        raise UnsupportedMedia("The file is empty.")
    return size
