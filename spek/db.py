"""SQLAlchemy base, engine and sessions (async, over asyncpg)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Uuid, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic migrations can drop what they create.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid}


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def create_engine(database_url: str, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    """`pool_size` connections are kept open; up to `max_overflow` more are opened under load, and closed
    as soon as they come back (under steady load, one new connection every few requests)."""
    # Last in, first out: under load the same few connections (and PostgreSQL backends) serve one request
    # after another, warm, while the rest wait (`me` at 50 clients: 0.085 → 0.061 ms of PostgreSQL CPU).
    engine = create_async_engine(database_url, pool_size=pool_size, max_overflow=max_overflow, pool_use_lifo=True)
    # Instead of pool_pre_ping (BEGIN, a query and ROLLBACK: three round trips before every session's own):
    # a connection the server has closed (restarted, terminated, idle timeout) is already known to asyncpg
    # as closed, so the pool replaces it at checkout, with no round trip.
    event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database closed this connection")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
