"""From what a service returns to a GraphQL type, without a hand-written copy of every field."""

import dataclasses
import uuid
from typing import Any, TypeVar

import strawberry

T = TypeVar("T")


def from_row(cls: type[T], row: object, **given: Any) -> T:
    """A `cls` whose fields are `given`, or else the attribute of the same name on `row` (a model or a
    dataclass); UUIDs become IDs. Fields with a resolver compute themselves. A relationship the service
    did not load raises here, loudly, instead of being fetched behind its back.
    """
    public = {f.python_name for f in cls.__strawberry_definition__.fields}  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init:
            continue
        if field.name in given:
            values[field.name] = given[field.name]
        elif hasattr(row, field.name):
            value = getattr(row, field.name)
            values[field.name] = (
                strawberry.ID(str(value)) if field.name in public and isinstance(value, uuid.UUID) else value
            )
    return cls(**values)
