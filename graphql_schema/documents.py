"""Documents: upload (PDF, DOCX, HTML, Markdown, text), read, delete."""

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from graphql_schema.jobs import Job
from graphql_schema.uploads import incoming, upload_tools
from spek.documents import models, service
from spek.ids import parse_id
from spek.jobs import service as jobs
from spek.jobs.models import JobStatus


@strawberry.type
class Document:
    id: strawberry.ID
    title: str
    filename: str
    content_type: str
    size_bytes: int
    notebook_id: strawberry.ID | None
    status: JobStatus
    job: Job | None
    chunk_count: int
    created_at: datetime

    @classmethod
    def from_model(cls, document: models.Document) -> "Document":
        job = Job.from_model(document.job) if document.job else None
        return from_row(cls, document, status=jobs.status_of(document.job), job=job)


@strawberry.type
class DocumentsQuery:
    @strawberry.field(description="Newest first.")
    async def documents(self, info: Info, limit: int | None = 50, offset: int | None = 0) -> list[Document]:
        async with info.context.signed_in() as (session, user):
            found = await service.list_documents(session, user, 50 if limit is None else limit, offset or 0)
            return [Document.from_model(d) for d in found]

    @strawberry.field
    async def document(self, info: Info, id: strawberry.ID) -> Document | None:
        async with info.context.signed_in() as (session, user):
            return Document.from_model(await service.get_document(session, user, parse_id(id)))


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(
        description="Upload a PDF, DOCX, HTML, Markdown or text file (the real type is read from its bytes); "
        "a file without readable text is refused. A job then makes its passages searchable."
    )
    async def upload_document(self, info: Info, file: Upload, notebook_id: strawberry.ID | None = None) -> Document:
        tools = upload_tools(info, info.context.services.settings.max_document_mb)
        notebook = parse_id(notebook_id, "notebookId") if notebook_id is not None else None
        async with info.context.signed_in(limit="uploads") as (session, user):
            return Document.from_model(
                await service.upload_document(session, tools, user, incoming(file, "document"), notebook)
            )

    @strawberry.mutation(description="Delete a document with its passages and file.")
    async def delete_document(self, info: Info, id: strawberry.ID) -> bool:
        services = info.context.services
        async with info.context.signed_in() as (session, user):
            return await service.delete_document(session, services.redis, services.storage, user, parse_id(id))
