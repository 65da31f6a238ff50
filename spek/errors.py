"""Errors a client can act on. Each carries one of the contract's ErrorCode values."""

from enum import Enum


class ErrorCode(str, Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA = "UNSUPPORTED_MEDIA"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"
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
