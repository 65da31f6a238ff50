"""Contract operations whose feature has not landed yet answer with a clear NOT_IMPLEMENTED error."""

from typing import NoReturn

from spek.errors import NotImplementedYet


def not_served(operation: str) -> NoReturn:
    raise NotImplementedYet(f"`{operation}` is part of the API contract but is not available on this server yet.")
