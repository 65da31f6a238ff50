"""Embedding the search index's new and changed entries: for one user soon after a change, and for
everyone every minute (what a per-user job missed, and all of it after SPEK_EMBEDDING_MODEL changes)."""

import uuid
from typing import Any

import anyio
import structlog

from jobs.models import embedder
from spek.embeddings import model_name
from spek.search import index
from spek.settings import Settings

log = structlog.get_logger("spek.search")


async def index_search_entries(ctx: dict[str, Any], user_id: str | None = None) -> int:
    settings: Settings = ctx["settings"]
    owner = uuid.UUID(user_id) if user_id else None
    async with ctx["sessionmaker"]() as session:
        # The model loads only when there is work: most sweeps find none.
        if not await index.has_pending(session, model_name(settings.embedding_model), owner):
            return 0
        # Abandoned on shutdown: a worker must not wait for a model load to stop.
        model = await anyio.to_thread.run_sync(embedder, ctx, abandon_on_cancel=True)
        done = await index.embed_pending(session, model, user_id=owner)
    log.info("search.indexed", entries=done, user_id=user_id, model=model.name)
    return done


async def index_everyone(ctx: dict[str, Any]) -> int:
    return await index_search_entries(ctx)
