"""Give every GraphQL error a contract ErrorCode; never let a stack trace or SQL reach a client."""

import structlog
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from spek.errors import ErrorCode, SpekError

log = structlog.get_logger("spek.graphql")


def _is_client_error(error: GraphQLError) -> bool:
    """Parse, validation and variable errors happen before execution and have no path."""
    return error.path is None and (
        error.original_error is None or isinstance(error.original_error, GraphQLError | ValueError | TypeError)
    )


def with_code(error: GraphQLError) -> GraphQLError:
    """The error as a client may see it: a contract code, and no internals."""
    original = error.original_error
    if isinstance(original, SpekError):
        code, message = original.code, original.message
    elif error.extensions and "code" in error.extensions:
        return error  # already processed
    elif _is_client_error(error):
        code, message = ErrorCode.BAD_USER_INPUT, error.message
    else:
        request_id = structlog.contextvars.get_contextvars().get("request_id", "-")
        log.error("graphql.unexpected_error", path=error.path, exc_info=original or error)
        code, message = ErrorCode.INTERNAL, f"Something went wrong on our side (request id {request_id})."
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value},
    )


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return with_code(error)
