"""Public ids are UUIDs; a malformed one is the client's mistake, not ours."""

import uuid

from spek.errors import BadUserInput


def parse_id(value: str, what: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput(f"{what} {value!r} is not a valid ID (expected a UUID).") from None
