import enum
import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import Computed, Enum, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from spek.db import Base, IdMixin, utcnow


class SearchKind(str, enum.Enum):
    NOTE = "NOTE"
    PAGE = "PAGE"
    DOCUMENT = "DOCUMENT"
    TRANSCRIPT = "TRANSCRIPT"


# The packaged embedding models (spek.embeddings) by index key: their stored name and dimension.
# pgvector indexes need a fixed dimension; the column takes any, so each model gets a partial index.
INDEXED_MODELS = {"minilm": ("all-MiniLM-L6-v2", 384), "e5_small": ("multilingual-e5-small-q4", 384)}


def _vector_index(key: str, model: str, dimension: int) -> Index:
    return Index(
        f"ix_search_entries_embedding_{key}",
        text(f"(embedding::vector({dimension})) vector_cosine_ops"),
        postgresql_using="hnsw",
        postgresql_where=text(f"embedding_model = '{model}'"),
    )


class SearchEntry(IdMixin, Base):
    """One searchable passage: a page, a note, a document passage or a transcript segment.

    The owner is on every row, so every search is scoped in SQL. `search_vector` is computed by the
    database from `text` (language by script, accents folded: see migration 0005), so an edit is
    re-indexed for keywords at once; `embedding` is filled by a worker and cleared on every edit.
    """

    __tablename__ = "search_entries"
    __table_args__ = (
        # Keyword lookups by (owner, word) keys: spek_owned_words, migration 0012.
        Index(
            "ix_search_entries_owned_words", text("spek_owned_words(user_id, search_vector)"), postgresql_using="gin"
        ),
        *(_vector_index(key, model, dimension) for key, (model, dimension) in INDEXED_MODELS.items()),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SearchKind] = mapped_column(Enum(SearchKind, native_enum=False, length=16))
    # The page, note, segment or passage itself: what a hit's `id` is.
    source_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    # The document or recording it belongs to (a page's notebook); where a client opens it.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within the parent
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text)  # document passages: the section they sit in
    page: Mapped[int | None] = mapped_column(Integer)  # document passages: 1-based page, where known
    start: Mapped[float | None] = mapped_column(Float)  # transcript segments: seconds into the audio
    end: Mapped[float | None] = mapped_column(Float)
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector(spek_text_search_config(text), spek_fold(text))", persisted=True)
    )
    # Vectors of one model are never ranked against another's: the model is kept with each one.
    embedding: Mapped[list[float] | None] = mapped_column(Vector())
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
