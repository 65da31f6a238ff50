"""Keeping the index in step with what it indexes. Each function works in the caller's transaction.

Writing an entry's text clears its embedding: a worker embeds it again (`embed_pending`), and until
then the entry is found by keyword only, never by a vector of its old text.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import anyio
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from spek.embeddings import Embedder
from spek.search.models import SearchEntry, SearchKind

MAX_TITLE = 300


@dataclass(frozen=True)
class Passage:
    """What an entry holds besides its owner, kind and parent."""

    source_id: uuid.UUID
    text: str
    position: int = 0
    heading: str | None = None
    page: int | None = None
    start: float | None = None
    end: float | None = None


async def replace_entries(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: SearchKind,
    parent_id: uuid.UUID,
    title: str,
    passages: Iterable[Passage],
) -> None:
    """The entries of one parent (a document's passages, a transcript's segments), all made anew."""
    await remove_parent(session, kind, parent_id)
    session.add_all(
        SearchEntry(
            user_id=user_id,
            kind=kind,
            parent_id=parent_id,
            title=title[:MAX_TITLE],
            source_id=p.source_id,
            position=p.position,
            text=p.text,
            heading=p.heading,
            page=p.page,
            start=p.start,
            end=p.end,
        )
        for p in passages
    )


async def put_entry(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: SearchKind,
    parent_id: uuid.UUID | None,
    title: str,
    passage: Passage,
) -> None:
    """Add or change the entry of one thing (a page, a note, an edited segment)."""
    entry = (await session.execute(select(SearchEntry).where(SearchEntry.source_id == passage.source_id))).scalar()
    if entry is None:
        entry = SearchEntry(user_id=user_id, kind=kind, source_id=passage.source_id)
        session.add(entry)
    elif entry.text != passage.text:
        entry.embedding, entry.embedding_model = None, None
    entry.parent_id, entry.title, entry.text = parent_id, title[:MAX_TITLE], passage.text
    entry.position, entry.heading, entry.page = passage.position, passage.heading, passage.page
    entry.start, entry.end = passage.start, passage.end


async def set_text(session: AsyncSession, source_id: uuid.UUID, text: str) -> None:
    """New text for one entry (an edited transcript segment): re-indexed for keywords at once."""
    changed = {"text": text, "embedding": None, "embedding_model": None}
    await session.execute(update(SearchEntry).where(SearchEntry.source_id == source_id).values(changed))


async def set_title(session: AsyncSession, kind: SearchKind, parent_id: uuid.UUID, title: str) -> None:
    await session.execute(
        update(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.parent_id == parent_id).values(title=title)
    )


async def remove(session: AsyncSession, source_id: uuid.UUID) -> None:
    await session.execute(delete(SearchEntry).where(SearchEntry.source_id == source_id))


async def remove_parent(session: AsyncSession, kind: SearchKind, parent_id: uuid.UUID) -> None:
    await session.execute(delete(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.parent_id == parent_id))


def _pending(model: str) -> ColumnElement[bool]:
    """Entries without a vector of this model: new, edited, or embedded by another model."""
    return or_(SearchEntry.embedding_model.is_(None), SearchEntry.embedding_model != model)


async def has_pending(session: AsyncSession, model: str, user_id: uuid.UUID | None = None) -> bool:
    query = select(SearchEntry.id).where(_pending(model)).limit(1)
    if user_id is not None:
        query = query.where(SearchEntry.user_id == user_id)
    return (await session.execute(query)).first() is not None


async def count_pending(session: AsyncSession, model: str) -> int:
    return (await session.execute(select(func.count()).select_from(SearchEntry).where(_pending(model)))).scalar_one()


async def embed_pending(
    session: AsyncSession,
    embedder: Embedder,
    *,
    user_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
    batch: int = 32,
    on_batch: Callable[[int, int], Awaitable[None]] | None = None,
) -> int:
    """Embed every entry (of a user, or of a parent) whose vector is missing or of another model.

    Commits after each batch, so a killed worker loses at most one batch; `on_batch(done, total)`
    is awaited after each. The number of entries embedded.
    """
    query = select(SearchEntry).where(_pending(embedder.name)).order_by(SearchEntry.parent_id, SearchEntry.position)
    if user_id is not None:
        query = query.where(SearchEntry.user_id == user_id)
    if parent_id is not None:
        query = query.where(SearchEntry.parent_id == parent_id)
    entries = list((await session.execute(query)).scalars())
    for done in range(0, len(entries), batch):
        part = entries[done : done + batch]
        vectors = await anyio.to_thread.run_sync(embedder.embed_documents, [e.text for e in part])
        for entry, vector in zip(part, vectors):
            entry.embedding, entry.embedding_model = vector.tolist(), embedder.name
        await session.commit()
        if on_batch is not None:
            await on_batch(done + len(part), len(entries))
    return len(entries)
