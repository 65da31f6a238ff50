"""GraphQL multipart uploads handed to services as plain streams."""

from collections.abc import AsyncIterator
from typing import cast

from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.types.scalar import ScalarDefinition, scalar

from graphql_schema.context import Info
from spek.storage import CHUNK_SIZE
from spek.uploads import IncomingFile, UploadTools


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


def _only_files(value: object) -> UploadFile:
    # Strawberry's Upload takes any value: a string in the variables would reach a resolver as its "file".
    if not isinstance(value, UploadFile):
        raise ValueError("An Upload is a file part of a multipart request, named in its `map`.")
    return value


def _no_literal(*_: object) -> None:
    raise ValueError("An Upload cannot be written in the document: send it as a variable, in a multipart request.")


# In place of Strawberry's Upload (Schema scalar_overrides): the same scalar, refusing what is not a file.
UPLOAD_SCALAR: ScalarDefinition = scalar(
    name="Upload",
    description="Represents a file upload.",
    serialize=lambda value: value,
    parse_value=_only_files,
    parse_literal=_no_literal,
)


def incoming(file: Upload, default_name: str) -> IncomingFile:
    upload = cast(UploadFile, file)  # what Strawberry's Upload is at run time on Starlette
    return IncomingFile(upload.filename or default_name, _chunks(upload))


def upload_tools(info: Info, limit_mb: int) -> UploadTools:
    services = info.context.services
    return UploadTools(services.redis, services.storage, services.settings.data_dir / "tmp", limit_mb * 1024 * 1024)
