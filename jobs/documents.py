"""Job functions for documents: thin wrappers over the pipeline in `spek.documents`."""

import uuid
from typing import Any

from jobs.lease import run_leased
from jobs.models import embedder
from spek.documents.pipeline import DocumentTools
from spek.documents.pipeline import process_document as run_pipeline
from spek.settings import Settings


async def process_document(ctx: dict[str, Any], job_id: str) -> None:
    settings: Settings = ctx["settings"]
    tools = DocumentTools(
        ctx["sessionmaker"],
        ctx["redis"],
        lambda: embedder(ctx),
        ctx["stopping"],
        settings.job_max_attempts,
        settings.job_retry_backoff_seconds,
    )
    await run_leased(ctx, run_pipeline(tools, uuid.UUID(job_id)))
