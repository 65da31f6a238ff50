"""The audit log: who did what to which row, and when."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from spek.db import Base, IdMixin, utcnow
from spek.errors import BadUserInput


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_log"

    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def record(
    session: AsyncSession,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    **details: Any,
) -> None:
    """Add an audit entry to the session; it commits with the change it describes."""
    session.add(
        AuditEvent(
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or None,
        )
    )


async def entries_of(session: AsyncSession, actor_id: uuid.UUID, limit: int, offset: int) -> list[AuditEvent]:
    """What this user did, newest first."""
    if not 1 <= limit <= 200 or offset < 0:
        raise BadUserInput("limit must be 1..200 and offset at least 0.")
    query = select(AuditEvent).where(AuditEvent.actor_id == actor_id).order_by(AuditEvent.at.desc(), AuditEvent.id)
    return list((await session.execute(query.limit(limit).offset(offset))).scalars())
