import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spek.db import Base, IdMixin, utcnow

if TYPE_CHECKING:
    from spek.recordings.models import Recording


class Transcript(IdMixin, Base):
    __tablename__ = "transcripts"

    recording_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    language_probability: Mapped[float] = mapped_column(Float)
    duration_seconds: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(200))
    # [{"label": "SPEAKER_00", "name": null}, ...]: names are what users give them.
    speakers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    recording: Mapped["Recording"] = relationship(back_populates="transcript", lazy="raise_on_sql")
    segments: Mapped[list["Segment"]] = relationship(
        back_populates="transcript",
        order_by="Segment.index",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="raise_on_sql",
    )


class Segment(IdMixin, Base):
    __tablename__ = "segments"

    transcript_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(32))
    # What Whisper decoded it as: the transcript's language, unless the file changes language.
    language: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # [{"start": s, "end": s, "text": "word", "probability": p}, ...]
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Labels of the other speakers heard during it (overlapped speech), sorted.
    overlapping_speakers: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    transcript: Mapped[Transcript] = relationship(back_populates="segments", lazy="raise_on_sql")
