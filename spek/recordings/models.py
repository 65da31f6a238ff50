import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spek.db import Base, IdMixin, utcnow
from spek.jobs.models import Job


class Batch(IdMixin, Base):
    """Recordings uploaded together; its status and progress are those of their jobs."""

    __tablename__ = "batches"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recordings: Mapped[list["Recording"]] = relationship(order_by="Recording.created_at")


class Recording(IdMixin, Base):
    __tablename__ = "recordings"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notebook_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notebooks.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("batches.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(255))
    # The RecordingInput processing options (language, quality, diarization), kept for retries.
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    job: Mapped[Job | None] = relationship(lazy="joined")
    transcript: Mapped["Transcript | None"] = relationship(back_populates="recording", cascade="all, delete-orphan")


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

    recording: Mapped[Recording] = relationship(back_populates="transcript")
    segments: Mapped[list["Segment"]] = relationship(
        back_populates="transcript", order_by="Segment.index", cascade="all, delete-orphan"
    )


class Segment(IdMixin, Base):
    __tablename__ = "segments"

    transcript_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # [{"start": s, "end": s, "text": "word", "probability": p}, ...]
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")
