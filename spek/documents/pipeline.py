"""The document job a worker runs: embed the chunks the upload made, in batches that report progress."""

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.documents.models import Document
from spek.embeddings import Embedder
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.runner import begin_stage, run_job, stop_if_asked
from spek.search import index


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
    await begin_stage(tools, session, job, "embedding", 0.05)
    embedder = await anyio.to_thread.run_sync(tools.embedder)

    async def on_batch(done: int, total: int) -> None:
        await jobs.report(session, tools.redis, job, progress=0.05 + 0.9 * done / total)
        await stop_if_asked(tools, job)

    # Passages a killed earlier attempt embedded with this model are kept; the rest are done now.
    await index.embed_pending(session, embedder, parent_id=document.id, on_batch=on_batch)
    message = f"{document.chunk_count} passages ready for search"
    await jobs.report(session, tools.redis, job, status=JobStatus.COMPLETED, stage="embedding", message=message)
