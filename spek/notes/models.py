import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spek.db import Base, IdMixin, TimestampMixin
from spek.notebooks.models import Tag

# Tags are the user's, shared by pages and notes.
note_tags = Table(
    "note_tags",
    Base.metadata,
    Column("note_id", ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Note(IdMixin, TimestampMixin, Base):
    __tablename__ = "notes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # One note per recording: making it again replaces it.
    source_recording_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="SET NULL"), unique=True
    )
    notebook_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notebooks.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)  # Markdown
    language: Mapped[str | None] = mapped_column(String(16))
    key_phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"speaker": "SPEAKER_00", "label": "positive", "score": 0.42}, ...], one per transcript speaker.
    sentiment: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    reading_time_minutes: Mapped[int] = mapped_column(Integer, default=1)
    model: Mapped[str | None] = mapped_column(String(200))  # the LLM that wrote it; None once a person edits it

    # A note is never shown without its tags: they always come with it.
    tags: Mapped[list[Tag]] = relationship(secondary=note_tags, order_by="Tag.name", lazy="selectin")
