"""Give every GraphQL error a contract ErrorCode; never let a stack trace or SQL reach a client."""

import structlog
from graphql import GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import MaskErrors

from spek.errors import ErrorCode, SpekError, Unavailable, is_outage

log = structlog.get_logger("spek.graphql")


def internal_error_message() -> str:
    """What a client is told of a failure on our side: only the request id, which is also in the log."""
    request_id = structlog.contextvars.get_contextvars().get("request_id", "-")
    return f"Something went wrong on our side (request id {request_id})."


def _is_client_error(error: GraphQLError) -> bool:
    """Parse, validation and variable errors happen before execution and have no path."""
    return error.path is None and (
        error.original_error is None or isinstance(error.original_error, GraphQLError | ValueError | TypeError)
    )


def with_code(error: GraphQLError) -> GraphQLError:
    """The error as a client may see it: a contract code, and no internals."""
    original = error.original_error
    extra: dict[str, object] = {}
    if isinstance(original, SpekError):
        code, message, extra = original.code, original.message, original.extensions()
    elif error.extensions and "code" in error.extensions:
        return error  # already processed
    elif _is_client_error(error):
        code, message = ErrorCode.BAD_USER_INPUT, error.message
    elif is_outage(original):
        log.warning("graphql.outage", path=error.path, error=repr(original))
        unavailable = Unavailable()
        code, message, extra = unavailable.code, unavailable.message, unavailable.extensions()
    else:
        log.error("graphql.unexpected_error", path=error.path, exc_info=original or error)
        code, message = ErrorCode.INTERNAL, internal_error_message()
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value, **extra},
    )


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return with_code(error)


# HTTP statuses of requests refused before any GraphQL runs, and the code each one's error carries.
_CODES_BY_STATUS = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA,
    429: ErrorCode.RATE_LIMITED,
}


def error_response(status_code: int, message: str) -> JSONResponse:
    """A request refused whole, in the shape of a GraphQL response: `errors` with a code, and no `data`."""
    code = ErrorCode.INTERNAL if status_code >= 500 else _CODES_BY_STATUS.get(status_code, ErrorCode.BAD_USER_INPUT)
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code.value}}]}, status_code)
