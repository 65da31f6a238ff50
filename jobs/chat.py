"""Job functions for chat: a thin wrapper over the answer pipeline in `spek.chat`."""

import uuid
from typing import Any

from jobs.lease import run_leased
from jobs.models import embedder
from jobs.notes import llm
from spek.chat.answer import sources_budget
from spek.chat.pipeline import ChatTools
from spek.chat.pipeline import answer_message as run_pipeline
from spek.settings import Settings


async def answer_message(ctx: dict[str, Any], job_id: str) -> None:
    settings: Settings = ctx["settings"]
    tools = ChatTools(
        ctx["sessionmaker"],
        ctx["redis"],
        lambda: llm(ctx),
        lambda: embedder(ctx),
        ctx["stopping"],
        settings.job_max_attempts,
        settings.job_retry_backoff_seconds,
        settings.chat_timeout_seconds,
        sources_budget(settings.llm_provider),
    )
    await run_leased(ctx, run_pipeline(tools, uuid.UUID(job_id)))
