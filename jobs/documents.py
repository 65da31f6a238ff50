"""Job functions for documents: thin wrappers over the pipeline in `spek.documents`."""

import uuid
from typing import Any

from jobs.lease import run_leased
from jobs.models import load_once
from spek.documents.pipeline import DocumentTools
from spek.documents.pipeline import process_document as run_pipeline
from spek.embeddings import Embedder, create_embedder
from spek.settings import Settings


def _embedder(ctx: dict[str, Any]) -> Embedder:
    settings: Settings = ctx["settings"]
    return load_once(ctx, "embedder", lambda: create_embedder(settings.embedding_model))


async def process_document(ctx: dict[str, Any], job_id: str) -> None:
    settings: Settings = ctx["settings"]
    tools = DocumentTools(
        ctx["sessionmaker"],
        ctx["redis"],
        lambda: _embedder(ctx),
        ctx["stopping"],
        settings.job_max_attempts,
        settings.job_retry_backoff_seconds,
    )
    await run_leased(ctx, run_pipeline(tools, uuid.UUID(job_id)))
