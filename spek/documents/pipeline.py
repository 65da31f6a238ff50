"""The document job a worker runs: embed the chunks the upload made, in batches that report progress."""

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.documents.models import Document, DocumentChunk
from spek.embeddings import Embedder
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.runner import run_job, stop_if_asked

# Chunks embedded per step: a progress event and a cancel check each time.
BATCH = 32


@dataclass
class DocumentTools:
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    embedder: Callable[[], Embedder]
    stopping: threading.Event  # set when the worker is shutting down
    max_attempts: int = 3
    retry_backoff_seconds: float = 10.0


async def process_document(tools: DocumentTools, job_id: uuid.UUID) -> None:
    """Run the job once; RetryLater or WorkerStopping tell the queue to run it again."""

    async def work(session: AsyncSession, job: Job) -> None:
        document = (await session.execute(select(Document).where(Document.job_id == job.id))).scalar_one_or_none()
        if document is not None:  # else deleted meanwhile: nothing to do
            await _embed(tools, session, job, document)

    await run_job(tools, job_id, "Document processing", work)


async def _embed(tools: DocumentTools, session: AsyncSession, job: Job, document: Document) -> None:
    await stop_if_asked(tools, job)
    await jobs.report(session, tools.redis, job, status=JobStatus.RUNNING, stage="embedding", progress=0.05)
    embedder = await anyio.to_thread.run_sync(tools.embedder)
    # Chunks a killed earlier attempt embedded with this model are kept; the rest are done now.
    query = (
        select(DocumentChunk)
        .where(DocumentChunk.document_id == document.id)
        .where((DocumentChunk.embedding_model.is_(None)) | (DocumentChunk.embedding_model != embedder.name))
        .order_by(DocumentChunk.index)
    )
    pending = list((await session.execute(query)).scalars())
    for done in range(0, len(pending), BATCH):
        await stop_if_asked(tools, job)
        batch = pending[done : done + BATCH]
        vectors = await anyio.to_thread.run_sync(embedder.embed_documents, [c.text for c in batch])
        for chunk, vector in zip(batch, vectors):
            chunk.embedding = vector.tolist()
            chunk.embedding_model = embedder.name
        # report() commits: each batch's vectors are saved with its progress event.
        progress = 0.05 + 0.9 * (done + len(batch)) / len(pending)
        await jobs.report(session, tools.redis, job, progress=progress)
    await jobs.report(
        session,
        tools.redis,
        job,
        status=JobStatus.COMPLETED,
        stage="embedding",
        message=f"{document.chunk_count} chunks",
    )
