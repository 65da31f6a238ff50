import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from spek.db import Base, utcnow


class TelegramAccount(Base):
    """A Telegram user, signed in as a Spek user (created on first contact, or an email account after /link),
    with the options the bot uses for their recordings."""

    __tablename__ = "telegram_accounts"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    language_code: Mapped[str | None] = mapped_column(String(16))
    # {"language": "ru" | None, "quality": "FAST", "diarize": true, "num_speakers": 2 | None}
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramStatusMessage(Base):
    """A status message the bot edits until its job ends: kept in the database so that a restarted bot carries
    on editing it (and sends the result) instead of leaving it frozen part-way."""

    __tablename__ = "telegram_status_messages"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)  # None until posted
    language: Mapped[str] = mapped_column(String(8))  # the bot's interface language for this chat
    title: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
