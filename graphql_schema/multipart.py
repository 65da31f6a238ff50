"""The GraphQL multipart request spec, read strictly: every malformed request is a 400 that says what is
wrong, never an exception from deep inside (Strawberry's own reading trusts `map`)."""

import json
from collections.abc import Callable
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import FormData, UploadFile

from graphql_schema.input_checks import unstorable
from graphql_schema.request_body import UnreadableJSON

EXAMPLE = 'operations={"query": "…", "variables": {"file": null}} and map={"0": ["variables.file"]}'


def _refuse(reason: str) -> HTTPException:
    return HTTPException(400, f"Malformed multipart request: {reason} (expected {EXAMPLE}, then the file parts).")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:80] + "…")


def _json_field(form: FormData, name: str, decode_json: Callable[[str], object]) -> object:
    value = form.get(name, "{}")
    if not isinstance(value, str):
        raise _refuse(f"`{name}` is a file part; it must be a plain form field")
    try:
        return decode_json(value)
    except UnreadableJSON as e:
        raise _refuse(f"`{name}`: {e.reason}") from None
    except json.JSONDecodeError:
        raise _refuse(f"`{name}` is not JSON") from None


def _step(container: Any, key: str, path: str) -> Any:
    """The value under `key`, which must exist: a path only ever replaces a placeholder."""
    if isinstance(container, dict) and key in container:
        return container[key]
    if isinstance(container, list) and key.isdigit() and int(key) < len(container):
        return container[int(key)]
    raise _refuse(f"the `map` path {_shown(path)} names no value in `operations`")


def _place(operations: dict[str, Any], path: str, file: UploadFile) -> None:
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables" or not isinstance(operations.get("variables"), dict):
        raise _refuse(f"the `map` path {_shown(path)} must point into `variables`, an object")
    parent = operations
    for key in keys[:-1]:
        parent = _step(parent, key, path)
    last = keys[-1]
    if isinstance(parent, dict):
        parent[last] = file  # the placeholder (null), or a new key: Strawberry sets either
    else:
        _step(parent, last, path)
        parent[int(last)] = file


def operations_with_files(form: FormData, decode_json: Callable[[str], object]) -> dict[str, Any]:
    """The request's `operations` with each file put where `map` says."""
    operations = _json_field(form, "operations", decode_json)
    files_map = _json_field(form, "map", decode_json)
    if not isinstance(operations, dict):
        raise _refuse("`operations` must be one JSON object (batches are not accepted)")
    if not isinstance(files_map, dict):
        raise _refuse("`map` must be a JSON object")
    files: dict[str, UploadFile] = {}
    for name, value in form.multi_items():
        if not isinstance(value, UploadFile):
            continue
        if name in files:
            raise _refuse(f"the file part {_shown(name)} appears twice")
        if name not in files_map:
            raise _refuse(f"the file part {_shown(name)} is not in `map`")
        if problem := unstorable(value.filename or ""):
            raise _refuse(f"the file name of part {_shown(name)} has {problem}")
        files[name] = value
    for name, paths in files_map.items():
        if name not in files:
            raise _refuse(f"`map` names the file part {_shown(name)}, which the request does not have")
        if not isinstance(paths, list) or not paths or not all(isinstance(path, str) for path in paths):
            raise _refuse(f'`map[{_shown(name)}]` must be a list of paths such as "variables.file"')
        for path in paths:
            _place(operations, path, files[name])
    return operations
