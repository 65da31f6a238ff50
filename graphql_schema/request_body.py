"""Reading a GraphQL request's body defensively: a bounded size, and JSON of a bounded nesting."""

import json

from cross_web import HTTPException
from starlette.types import Message, Receive, Scope

# Deeper than any input of the schema nests by far; JSON past it would only exhaust the stack somewhere.
MAX_JSON_DEPTH = 64
# A refused body is read to its end (up to this much) before the answer, so that the client, still
# sending, gets to read the answer instead of a reset connection.
DISCARD_AT_MOST = 64 * 1024 * 1024


class UnreadableJSON(json.JSONDecodeError):
    """JSON that is refused although it parses, or bytes that are not text. A JSONDecodeError, so that
    every caller of the view's decode_json (the WebSocket protocols too) treats it as what is not JSON."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason


def _nested_deeper_than(value: object, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def decode_json(data: str | bytes, max_bytes: int) -> object:
    if len(data) > max_bytes:  # characters of a str: near enough
        raise UnreadableJSON(f"The JSON is larger than {max_bytes} bytes (SPEK_MAX_REQUEST_BYTES).")
    try:
        value = json.loads(data)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise UnreadableJSON(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    except UnicodeDecodeError:
        raise UnreadableJSON("The body is not UTF-8 text.") from None
    except ValueError:  # a number of thousands of digits
        raise UnreadableJSON("The JSON has a number too long to read.") from None
    # Nesting that deep takes that many opening brackets: most bodies have too few to need the walk.
    openers = data.count(b"[") + data.count(b"{") if isinstance(data, bytes) else data.count("[") + data.count("{")
    if openers > MAX_JSON_DEPTH and _nested_deeper_than(value, MAX_JSON_DEPTH):
        raise UnreadableJSON(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    return value


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is larger than {limit} bytes (SPEK_MAX_REQUEST_BYTES); "
            "files go in multipart uploads, which have limits of their own.",
        )


class LimitedBody:
    """An HTTP request's body, refused past `limit` bytes unless it is a multipart upload.

    Counted as it arrives, so a body without Content-Length (chunked) is stopped too, before it is all
    in memory."""

    def __init__(self, scope: Scope, receive: Receive, limit: int) -> None:
        # One pass over the raw headers (Starlette's Headers decodes and scans them again for each lookup).
        wanted = {b"content-type": b"", b"content-length": b"", b"accept": b""}
        for name, value in scope["headers"]:
            if name in wanted:
                wanted[name] = value
        self.media_type = wanted[b"content-type"].decode("latin-1").partition(";")[0].strip().lower()
        self.accept = wanted[b"accept"].decode("latin-1")
        self._receive = receive
        self._limit = None if self.media_type.startswith("multipart/") else limit
        self._declared = wanted[b"content-length"].decode("latin-1")
        self._received = 0
        self._more = True
        self._kept: bytes | None = None  # what read() read, handed out again by the next receive()

    def check_declared_length(self) -> None:
        """Refuse at once a body whose Content-Length is already over the limit."""
        if self._limit is not None and self._declared.isdigit() and int(self._declared) > self._limit:
            raise BodyTooLarge(self._limit)

    async def receive(self) -> Message:
        if self._kept is not None:
            body, self._kept = self._kept, None
            return {"type": "http.request", "body": body, "more_body": False}
        return await self._counted()

    async def _counted(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            self._more = message.get("more_body", False)
            if self._limit is not None and self._received > self._limit:
                raise BodyTooLarge(self._limit)
        elif message["type"] == "http.disconnect":
            self._more = False
        return message

    async def read(self) -> bytes:
        """The whole body (within the limit), read straight from the server: not through Starlette's
        Request.stream(), whose async generator costs more than the read of a small body itself. Kept
        for one more receive(), so that a Request on this body can still read it."""
        chunks = []
        while self._more:
            message = await self._counted()
            chunks.append(message.get("body", b""))
        self._kept = b"".join(chunks)
        return self._kept

    async def discard_rest(self) -> None:
        """Read what is left of the body, up to DISCARD_AT_MOST, without keeping it."""
        declared = int(self._declared) if self._declared.isdigit() else 0
        if declared > DISCARD_AT_MOST:
            return
        while self._more and self._received <= DISCARD_AT_MOST:
            message = await self._receive()
            self._received += len(message.get("body", b""))
            self._more = message["type"] == "http.request" and message.get("more_body", False)
