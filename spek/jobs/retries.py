"""Which failures are worth another try, and how long to wait before it.

A transient failure is one of the infrastructure around the job (a database, Redis or storage
connection dropping, a timeout, a 5xx from object storage), not of the input: running again later
may succeed. Anything else fails the job at once with its message.
"""

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

MAX_BACKOFF_SECONDS = 300.0


class RetryLater(Exception):
    """Run the job again after `delay` seconds; its QUEUED event has been sent already."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:.0f}s")
        self.delay = delay


class WorkerStopping(Exception):
    """The worker is shutting down: hand the job back to the queue for another worker."""


def _transient_types() -> tuple[type[BaseException], ...]:
    import asyncpg
    import redis.exceptions

    types: list[type[BaseException]] = [
        ConnectionError,
        TimeoutError,
        PoolTimeout,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.ConnectionDoesNotExistError,
        asyncpg.CannotConnectNowError,
    ]
    try:
        import botocore.exceptions

        types += [botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError]
    except ImportError:  # S3 support not installed
        pass
    return tuple(types)


def is_transient(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:  # the error or anything that caused it
        seen.add(id(current))
        if isinstance(current, _transient_types()):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if _is_server_error(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_server_error(error: BaseException) -> bool:
    """A 5xx answer from object storage (botocore ClientError): the service, not the request."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return isinstance(status, int) and status >= 500


def backoff_seconds(attempt: int, base: float) -> float:
    """base, 2×base, 4×base … after the 1st, 2nd, 3rd … failed attempt, capped at five minutes."""
    return min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF_SECONDS)
