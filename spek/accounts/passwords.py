"""Password hashing with Argon2id."""

import os
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

T = TypeVar("T")

_hasher = PasswordHasher()
# Verified against when the email is unknown, so that both failures take the same time.
_DUMMY_HASH = _hasher.hash("spek-timing-equalizer")
# Argon2id costs about 0.1–0.2 s of CPU and 64 MiB per call: run in the event loop it would stall every
# other request of the process for that long (a load test saw `me` go from 10 ms to 280 ms p50 while two
# clients signed in). So the async callers run it in a thread (argon2 lets go of the GIL), a few at once.
_slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 1))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _bounded(function: Callable[..., T], *args: object) -> T:
    with _slots:
        return function(*args)


async def hash_password_in_thread(password: str) -> str:
    """`hash_password` without blocking the event loop."""
    return await anyio.to_thread.run_sync(_bounded, hash_password, password)


async def verify_password_in_thread(password_hash: str | None, password: str) -> bool:
    """`verify_password` without blocking the event loop."""
    return await anyio.to_thread.run_sync(_bounded, verify_password, password_hash, password)
