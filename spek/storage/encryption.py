"""Encryption at rest: AES-256-GCM around any backend, streamed in fixed-size chunks.

An object is a header, then the plaintext in 64 KiB chunks, each sealed on its own (ciphertext +
16-byte tag), so both writing and reading hold one chunk at a time and a range read opens only the
chunks it covers: chunk i starts at HEADER_SIZE + i * SEALED_CHUNK.

    header = MAGIC | VERSION | key id (8) | nonce prefix (8, random per object)
    nonce(i) = nonce prefix | i (4 bytes)
    AAD(i)  = header | i (4 bytes) | 1 if i is the last chunk else 0

Binding the index and the last-chunk flag makes reordered, dropped, truncated or appended chunks
fail authentication; binding the header protects it too. The key id tells "another key" apart from
"modified".
"""

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from contextlib import aclosing

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from spek.storage.base import IntegrityError, Storage, StorageError, check_range

MAGIC = b"SPEKENC"
VERSION = 1
KEY_ID_SIZE = 8
NONCE_PREFIX_SIZE = 8
HEADER_SIZE = len(MAGIC) + 1 + KEY_ID_SIZE + NONCE_PREFIX_SIZE
PLAIN_CHUNK = 64 * 1024
TAG_SIZE = 16
SEALED_CHUNK = PLAIN_CHUNK + TAG_SIZE

KEY_HELP = (
    "SPEK_ENCRYPTION_KEY must be 32 random bytes written as base64 or as 64 hex digits. Make one with\n"
    '  python -c "import secrets,base64;print(base64.b64encode(secrets.token_bytes(32)).decode())"\n'
    "and keep it safe: files stored under it cannot be read without it."
)


def parse_key(text: str) -> bytes:
    """The 32-byte key from SPEK_ENCRYPTION_KEY: 64 hex digits, or base64 (standard or urlsafe)."""
    text = text.strip()
    try:
        if len(text) == 64:
            key = bytes.fromhex(text)
        else:
            standard = text.replace("-", "+").replace("_", "/")
            key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise StorageError(KEY_HELP)  # never echo the value: it may be a real key mistyped
    return key


class EncryptedStorage:
    def __init__(self, inner: Storage, key: bytes) -> None:
        self.inner = inner
        self._aead = AESGCM(key)
        self._key_id = hmac.new(key, b"spek storage key id", hashlib.sha256).digest()[:KEY_ID_SIZE]

    def _seal(self, header: bytes, index: int, plain: bytes, last: bool) -> bytes:
        return self._aead.encrypt(_nonce(header, index), plain, _aad(header, index, last))

    def _open(self, key: str, header: bytes, index: int, sealed: bytes, last: bool) -> bytes:
        try:
            return self._aead.decrypt(_nonce(header, index), sealed, _aad(header, index, last))
        except InvalidTag:
            raise IntegrityError(
                f"stored object {key!r} failed authentication at chunk {index}: it was modified, truncated or extended"
            ) from None

    async def write(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        written = 0

        async def sealed() -> AsyncIterator[bytes]:
            nonlocal written
            header = MAGIC + bytes([VERSION]) + self._key_id + os.urandom(NONCE_PREFIX_SIZE)
            yield header
            pending = bytearray()
            index = 0
            async for chunk in chunks:
                pending += chunk
                written += len(chunk)
                # Strictly more than a chunk: the last one is sealed as last, so only at the end.
                while len(pending) > PLAIN_CHUNK:
                    yield self._seal(header, index, bytes(pending[:PLAIN_CHUNK]), last=False)
                    del pending[:PLAIN_CHUNK]
                    index += 1
            yield self._seal(header, index, bytes(pending), last=True)

        await self.inner.write(key, sealed())
        return written

    async def _header(self, key: str) -> bytes:
        header = b"".join([piece async for piece in self.inner.read(key, 0, HEADER_SIZE)])
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise IntegrityError(
                f"stored object {key!r} is not encrypted (was it stored before SPEK_ENCRYPTION_KEY was set?)"
            )
        if header[len(MAGIC)] != VERSION:
            raise IntegrityError(
                f"stored object {key!r} uses encryption format {header[len(MAGIC)]}, "
                "which this version of Spek cannot read"
            )
        if not hmac.compare_digest(header[len(MAGIC) + 1 : len(MAGIC) + 1 + KEY_ID_SIZE], self._key_id):
            raise IntegrityError(f"stored object {key!r} was encrypted with a different SPEK_ENCRYPTION_KEY")
        return header

    async def size(self, key: str) -> int:
        body = await self.inner.size(key) - HEADER_SIZE
        full, rest = divmod(body, SEALED_CHUNK)
        if body < TAG_SIZE or 0 < rest < TAG_SIZE:
            raise IntegrityError(
                f"stored object {key!r} has a size no encrypted object can have: it was truncated or extended"
            )
        return full * PLAIN_CHUNK + max(rest - TAG_SIZE, 0)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncGenerator[bytes, None]:
        check_range(start, end)
        header = await self._header(key)
        if end is not None and end <= start:
            return
        index = start // PLAIN_CHUNK
        skip = start - index * PLAIN_CHUNK
        left = None if end is None else end - start
        # One byte past the last chunk wanted tells whether another follows it (then it is not the last).
        stop = None if end is None else HEADER_SIZE + ((end - 1) // PLAIN_CHUNK + 1) * SEALED_CHUNK + 1
        pending = bytearray()

        def take(plain: bytes) -> bytes:
            nonlocal skip, left
            piece = plain[skip:] if left is None else plain[skip : skip + left]
            skip = 0
            if left is not None:
                left -= len(piece)
            return piece

        async with aclosing(self.inner.read(key, HEADER_SIZE + index * SEALED_CHUNK, stop)) as stream:
            async for data in stream:
                pending += data
                while len(pending) > SEALED_CHUNK:
                    piece = take(self._open(key, header, index, bytes(pending[:SEALED_CHUNK]), last=False))
                    del pending[:SEALED_CHUNK]
                    index += 1
                    if piece:
                        yield piece
                    if left == 0:
                        return
        # The object ended: what is left is its last chunk (an empty object has one too).
        if (pending or index == 0) and (piece := take(self._open(key, header, index, bytes(pending), last=True))):
            yield piece

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def close(self) -> None:
        await self.inner.close()


def _nonce(header: bytes, index: int) -> bytes:
    return header[-NONCE_PREFIX_SIZE:] + index.to_bytes(4, "big")


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
