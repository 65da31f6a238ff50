"""Decoded audio in a scratch file: 16 kHz mono float32, read a range at a time, never whole.

The file has no name (it is gone with its last descriptor, even when the worker is killed) and is
encrypted (AES-256-CTR) with a key that exists only in this process's memory: decoded audio is as
private as the upload, and with storage encryption on, plaintext must not reach the disk.
"""

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from spek.media import SAMPLE_RATE, decode_frames

ITEM = np.dtype(np.float32).itemsize
AES_BLOCK = 16


class Samples:
    """Slices like a 1-D float32 array: `samples[a:b]` reads and decrypts just that range.

    Plain reads rather than a memory map: mapped pages count towards the process's resident memory
    until the kernel drops them, and a sweep over three hours of audio would touch 690 MB of them.
    `gain` (loudness normalization) is applied as samples are read, so the file is written once.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=directory)
        self._key = os.urandom(32)
        self._counter = int.from_bytes(os.urandom(AES_BLOCK), "big")
        self.count = 0
        self.gain = 1.0

    def decode(self, source: Path | BinaryIO | io.RawIOBase) -> None:
        """Decode the source's audio track into the file, one frame at a time."""
        encryptor = self._cipher_at(0)
        self._file.seek(0)
        self._file.truncate()
        self.count = 0
        for piece in decode_frames(source):
            self._file.write(encryptor.update(piece.astype(np.float32, copy=False).tobytes()))
            self.count += len(piece)
        self._file.flush()

    def _cipher_at(self, offset: int) -> CipherContext:
        """A keystream positioned at byte `offset` of the file (CTR mode: any position, at once)."""
        block, skip = divmod(offset, AES_BLOCK)
        nonce = ((self._counter + block) % (1 << 128)).to_bytes(AES_BLOCK, "big")
        context = Cipher(algorithms.AES(self._key), modes.CTR(nonce)).encryptor()
        context.update(bytes(skip))
        return context

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, span: slice) -> np.ndarray:
        start, stop, step = span.indices(self.count)
        if step != 1:
            raise ValueError("Samples are read in contiguous ranges only.")
        data = os.pread(self._file.fileno(), max(0, stop - start) * ITEM, start * ITEM)
        samples = np.frombuffer(self._cipher_at(start * ITEM).update(data), np.float32)
        return samples * np.float32(self.gain) if self.gain != 1.0 else samples

    @property
    def duration(self) -> float:
        return self.count / SAMPLE_RATE

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Samples":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


# What the audio steps accept: an array in memory, or Samples on disk.
Audio = np.ndarray | Samples


def blocks(audio: Audio, size: int) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, samples) for consecutive blocks of at most `size` samples."""
    for start in range(0, len(audio), size):
        yield start, np.asarray(audio[start : start + size], dtype=np.float32)
