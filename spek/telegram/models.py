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
