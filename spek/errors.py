"""Errors a client can act on. Each carries one of the contract's ErrorCode values."""

from enum import Enum

import asyncpg
import redis.exceptions
from sqlalchemy.exc import DBAPIError


class ErrorCode(str, Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA = "UNSUPPORTED_MEDIA"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class SpekError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, object]:
        """What a client gets in `extensions` besides the code."""
        return {}


class Unauthenticated(SpekError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(SpekError):
    code = ErrorCode.FORBIDDEN


class NotFound(SpekError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(SpekError):
    code = ErrorCode.BAD_USER_INPUT


class PayloadTooLarge(SpekError):
    code = ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMedia(SpekError):
    code = ErrorCode.UNSUPPORTED_MEDIA


class Conflict(SpekError):
    code = ErrorCode.CONFLICT


class RateLimited(SpekError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds

    def extensions(self) -> dict[str, object]:
        return {"retryAfter": self.retry_after}


class Unavailable(SpekError):
    """PostgreSQL or Redis is out of reach for a moment (restarting): worth trying again, not a bug."""

    code = ErrorCode.UNAVAILABLE
    RETRY_AFTER_SECONDS = 2

    def __init__(self) -> None:
        super().__init__(
            "Spek's database or queue is restarting; try again in a few seconds. "
            "A subscription can be started again with `after` set to the last `seq` it received."
        )

    def extensions(self) -> dict[str, object]:
        return {"retryAfter": self.RETRY_AFTER_SECONDS}


# Errors that mean a server was out of reach, not that the request was wrong.
_OUTAGES = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    asyncpg.CannotConnectNowError,  # PostgreSQL is starting up or recovering
    asyncpg.ConnectionDoesNotExistError,
    ConnectionError,  # refused, reset: the OS's word for a server that is not there
)


def is_outage(error: BaseException | None) -> bool:
    """Whether an error (or what caused it) means PostgreSQL or Redis could not be reached or went away."""
    in_database_call = False
    while error is not None:
        if isinstance(error, DBAPIError):
            if error.connection_invalidated:
                return True
            in_database_call = True
        if isinstance(error, _OUTAGES) or (in_database_call and isinstance(error, OSError)):
            return True  # an OSError from the driver: its socket is gone
        error = error.__cause__ or error.__context__
    return False
