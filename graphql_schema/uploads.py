"""GraphQL multipart uploads handed to services as plain streams."""

from collections.abc import AsyncIterator
from typing import cast

from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from graphql_schema.context import Info
from spek.storage import CHUNK_SIZE
from spek.uploads import IncomingFile, UploadTools


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


def incoming(file: Upload, default_name: str) -> IncomingFile:
    upload = cast(UploadFile, file)  # what Strawberry's Upload is at run time on Starlette
    return IncomingFile(upload.filename or default_name, _chunks(upload))


def upload_tools(info: Info, limit_mb: int) -> UploadTools:
    services = info.context.services
    return UploadTools(services.redis, services.storage, services.settings.data_dir / "tmp", limit_mb * 1024 * 1024)
