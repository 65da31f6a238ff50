"""Numbered event streams on Redis: every event of a stream gets seq 1, 2, 3… without gaps, and a reader
replays what it missed (seq > after) and then follows live until the stream's final event. Job progress
(`job:<id>`) and chat answers (`chat:<id>`) are such streams."""

import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast

from redis.asyncio import Redis

FOLLOW_BLOCK_MS = 5000

# INCR and XADD in one step, so seq numbers follow stream order with no gaps. A final event starts the
# stream's retention clock.
_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'seq', seq, 'final', ARGV[2], 'data', ARGV[1])
if ARGV[2] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return seq
"""


async def append(redis: Redis, key: str, data: dict[str, Any], *, final: bool, retention_seconds: int) -> int:
    """Add an event; its seq. After a final event the stream is kept `retention_seconds` for late readers."""
    seq = redis.eval(_APPEND, 2, key, key + ":seq", json.dumps(data), "1" if final else "0", str(retention_seconds))
    return int(await cast(Awaitable[int], seq))


async def follow(redis: Redis, key: str, after: int = 0) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """(seq, data) of every event with seq > after, then of live ones, ending after the final event.

    The final event comes even when its seq is not past `after`: Redis restored from an older snapshot
    numbers new events again from where the snapshot was, and a reader resuming from a seq it saw before
    the loss must still learn how the stream ended."""
    last_id = "0-0"
    while True:
        replies = await redis.xread({key: last_id}, count=100, block=FOLLOW_BLOCK_MS)
        for _stream, entries in replies:
            for entry_id, fields in entries:
                last_id = entry_id
                seq = int(fields[b"seq"])
                final = fields.get(b"final") == b"1"
                if seq > after or final:
                    yield seq, json.loads(fields[b"data"])
                if final:
                    return


async def events(redis: Redis, key: str) -> list[dict[str, Any]]:
    """Every event's data so far, in order."""
    return [json.loads(fields[b"data"]) for _id, fields in await redis.xrange(key)]
