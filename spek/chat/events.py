"""An answer's events on a numbered Redis Stream (`chat:<message id>`): text deltas, then one final event
with the whole content and its citations, or an error."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from spek import streams

# A finished answer's events are kept a day for clients that reconnect; after that the row answers.
RETENTION_SECONDS = 24 * 3600


@dataclass
class ChatEvent:
    message_id: str
    seq: int
    delta: str
    done: bool
    content: str | None = None
    citations: list[dict[str, Any]] | None = None
    error: str | None = None
    notice: str | None = None  # news on the way, e.g. a rate limit being waited out


def stream_key(message_id: uuid.UUID | str) -> str:
    return f"chat:{message_id}"


async def append_delta(redis: Redis, message_id: uuid.UUID, delta: str) -> int:
    return await streams.append(
        redis, stream_key(message_id), {"delta": delta}, final=False, retention_seconds=RETENTION_SECONDS
    )


async def append_notice(redis: Redis, message_id: uuid.UUID, notice: str) -> int:
    return await streams.append(
        redis, stream_key(message_id), {"delta": "", "notice": notice}, final=False, retention_seconds=RETENTION_SECONDS
    )


async def append_done(
    redis: Redis, message_id: uuid.UUID, content: str, citations: list[dict[str, Any]], error: str | None
) -> int:
    data = {"delta": "", "done": True, "content": content, "citations": citations, "error": error}
    return await streams.append(redis, stream_key(message_id), data, final=True, retention_seconds=RETENTION_SECONDS)


async def streamed_text(redis: Redis, message_id: uuid.UUID) -> str:
    """The text sent so far: what a client has seen of the answer."""
    return "".join(event.get("delta", "") for event in await streams.events(redis, stream_key(message_id)))


async def follow(redis: Redis, message_id: uuid.UUID, after: int) -> AsyncIterator[ChatEvent]:
    async for seq, data in streams.follow(redis, stream_key(message_id), after):
        yield ChatEvent(
            message_id=str(message_id),
            seq=seq,
            delta=data.get("delta", ""),
            done=data.get("done", False),
            content=data.get("content"),
            citations=data.get("citations"),
            error=data.get("error"),
            notice=data.get("notice"),
        )
