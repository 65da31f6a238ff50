"""Documents: upload (opened and split into chunks before the answer), read, delete; all scoped to the user.

The upload extracts the text and cuts it into chunks at once, so a file we cannot read is refused by
the upload itself and leaves nothing behind; the job that follows embeds the chunks for search.
"""

import uuid
from pathlib import Path

import anyio
from arq.connections import ArqRedis
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from spek import audit
from spek.accounts.models import User
from spek.documents.chunking import chunk
from spek.documents.extract import extract
from spek.documents.models import Document
from spek.errors import BadUserInput, NotFound, PayloadTooLarge, UnsupportedMedia
from spek.jobs import service as jobs
from spek.jobs.queue import JobFunction, enqueue
from spek.notebooks import service as notebooks
from spek.search import index
from spek.search.index import Passage
from spek.search.models import SearchKind
from spek.storage import Storage, file_chunks
from spek.uploads import IncomingFile, UploadTools, spool

JOB_KIND = "document"


async def upload_document(
    session: AsyncSession, tools: UploadTools, user: User, incoming: IncomingFile, notebook_id: uuid.UUID | None
) -> Document:
    if notebook_id is not None:
        await notebooks.get_notebook(session, user, notebook_id)
    filename = incoming.safe_name
    tools.scratch_dir.mkdir(parents=True, exist_ok=True)
    scratch = tools.scratch_dir / f"document-{uuid.uuid4().hex}"
    storage_key: str | None = None
    try:
        try:
            size = await spool(incoming.chunks, scratch, tools.max_upload_bytes)
        except (PayloadTooLarge, UnsupportedMedia) as e:
            raise type(e)(f"{filename}: {e}") from None
        extracted = await anyio.to_thread.run_sync(extract, scratch, filename)
        chunks = chunk(extracted.blocks)
        storage_key = f"documents/{user.id}/{uuid.uuid4()}"
        await tools.storage.write(storage_key, file_chunks(scratch))
        job = await jobs.create_job(session, user, JOB_KIND)
        title = (extracted.title or Path(filename).stem or "Document").strip()[:200]
        document = Document(
            user_id=user.id,
            notebook_id=notebook_id,
            job=job,
            title=title,
            filename=filename,
            content_type=extracted.content_type,
            size_bytes=size,
            storage_key=storage_key,
            chunk_count=len(chunks),
        )
        session.add(document)
        await session.flush()
        passages = [Passage(uuid.uuid4(), c.text, position=c.index, heading=c.heading, page=c.page) for c in chunks]
        await index.replace_entries(session, user.id, SearchKind.DOCUMENT, document.id, title, passages)
        audit.record(session, user.id, "document.upload", "document", document.id, filename=filename, size=size)
        await session.commit()
    except BaseException:
        await session.rollback()
        if storage_key is not None:
            await tools.storage.delete(storage_key)
        raise
    finally:
        scratch.unlink(missing_ok=True)
    await jobs.report(session, tools.queue, job, message="queued")
    await enqueue(tools.queue, JobFunction.PROCESS_DOCUMENT, job.id)
    return await get_document(session, user, document.id)


def _documents(user: User) -> Select[Document]:
    """The user's documents, each with its job (every reader shows where its processing stands)."""
    return select(Document).where(Document.user_id == user.id).options(joinedload(Document.job))


async def get_document(session: AsyncSession, user: User, document_id: uuid.UUID) -> Document:
    query = _documents(user).where(Document.id == document_id).execution_options(populate_existing=True)
    document = (await session.execute(query)).scalar_one_or_none()
    if document is None:
        raise NotFound(f"Document {document_id} not found.")
    return document


async def list_documents(session: AsyncSession, user: User, limit: int, offset: int) -> list[Document]:
    if not 1 <= limit <= 200 or offset < 0:
        raise BadUserInput("limit must be 1..200 and offset at least 0.")
    query = _documents(user).order_by(Document.created_at.desc()).limit(limit).offset(offset)
    return list((await session.execute(query)).scalars())


async def delete_document(
    session: AsyncSession, queue: ArqRedis, storage: Storage, user: User, document_id: uuid.UUID
) -> bool:
    """Delete the document, its passages and their vectors, and its file; a running job is cancelled first."""
    document = await get_document(session, user, document_id)
    if document.job is not None and not document.job.status.is_terminal:
        await jobs.cancel_job(session, queue, user, document.job.id)
    await session.delete(document)
    await index.remove_parent(session, SearchKind.DOCUMENT, document.id)
    audit.record(session, user.id, "document.delete", "document", document_id, filename=document.filename)
    await session.commit()
    await storage.delete(document.storage_key)
    return True
