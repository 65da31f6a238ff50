"""Job functions for notes: thin wrappers over the pipeline in `spek.notes`."""

import uuid
from typing import Any

from jobs.lease import run_leased
from jobs.models import embedder, load_once
from spek.llm import LLM, create_llm
from spek.notes.pipeline import NoteTools
from spek.notes.pipeline import make_note as run_pipeline
from spek.settings import Settings


def llm(ctx: dict[str, Any]) -> LLM:
    settings: Settings = ctx["settings"]
    api_key = settings.gemini_api_key if settings.llm_provider == "gemini" else settings.llm_api_key
    return load_once(
        ctx,
        "llm",
        lambda: create_llm(
            settings.llm_provider,
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=api_key,
            threads=settings.llm_threads,
            cache_dir=settings.data_dir / "models",
        ),
    )


async def make_note(ctx: dict[str, Any], job_id: str) -> None:
    settings: Settings = ctx["settings"]
    tools = NoteTools(
        ctx["sessionmaker"],
        ctx["redis"],
        lambda: llm(ctx),
        lambda: embedder(ctx),
        ctx["stopping"],
        settings.job_max_attempts,
        settings.job_retry_backoff_seconds,
    )
    await run_leased(ctx, run_pipeline(tools, uuid.UUID(job_id)))
