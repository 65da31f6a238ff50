import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spek.db import Base, IdMixin, utcnow
from spek.jobs.models import Job

if TYPE_CHECKING:
    from spek.transcripts.models import Transcript


class Batch(IdMixin, Base):
    """Recordings uploaded together; its status and progress are those of their jobs."""

    __tablename__ = "batches"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    recordings: Mapped[list["Recording"]] = relationship(order_by="Recording.created_at", lazy="raise_on_sql")


class Recording(IdMixin, Base):
    __tablename__ = "recordings"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notebook_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("notebooks.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    # The latest run that made (or is making) the recording's note.
    note_job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
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
    # When its audio file was deleted (SPEK_AUDIO_TTL_HOURS); the transcript and note stay.
    audio_expired_at: Mapped[datetime | None]

    job: Mapped[Job | None] = relationship(foreign_keys=[job_id], lazy="raise_on_sql")
    note_job: Mapped[Job | None] = relationship(foreign_keys=[note_job_id], lazy="raise_on_sql")
    transcript: Mapped["Transcript | None"] = relationship(
        back_populates="recording", cascade="all, delete-orphan", passive_deletes=True, lazy="raise_on_sql"
    )
