"""Fake LLM servers on loopback: real HTTP and the providers' real wire formats, answers chosen by the test."""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support import serving_on_loopback


@dataclass
class FakeServer:
    """Keeps every request (path, query, headers, JSON body); `reply` answers it."""

    reply: Callable[[dict[str, Any]], Response]
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    async def handle(self, request: Request) -> Response:
        seen = {
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": dict(request.headers),
            "body": await request.json(),
        }
        self.requests.append(seen)
        return self.reply(seen)


@contextmanager
def serving(
    routes: Callable[[FakeServer], list[Route]], reply: Callable[[dict[str, Any]], Response]
) -> Iterator[FakeServer]:
    fake = FakeServer(reply)
    with serving_on_loopback(routes(fake)) as base_url:
        fake.base_url = base_url
        yield fake


def sse(events: list[str], delay: float = 0.0) -> StreamingResponse:
    """Server-sent events, `delay` seconds apart."""

    async def body() -> AsyncIterator[bytes]:
        for n, event in enumerate(events):
            if n and delay:
                await asyncio.sleep(delay)
            yield f"data: {event}\n\n".encode()

    return StreamingResponse(body(), media_type="text/event-stream")


def llm_settings(server: FakeServer, model: str = "fake-notes") -> dict[str, str]:
    """The settings that make Spek's LLM this fake server (the `openai` provider, with a key it checks)."""
    return {
        "SPEK_LLM_PROVIDER": "openai",
        "SPEK_LLM_BASE_URL": server.base_url,
        "SPEK_LLM_MODEL": model,
        "SPEK_LLM_API_KEY": "sk-test",
    }


@contextmanager
def fake_openai(answer: Callable[[dict[str, Any]], str | Response], delay: float = 0.0) -> Iterator[FakeServer]:
    """An OpenAI-compatible /v1/chat/completions whose assistant says `answer(request body)`; streamed word by
    word (`delay` seconds apart) when the request asks for a stream. An answer that is a Response is sent as is
    (an error, say)."""

    def reply(request: dict[str, Any]) -> Response:
        body = request["body"]
        said = answer(body)
        if isinstance(said, Response):
            return said
        if body.get("stream"):
            return sse([json.dumps(chunk) for chunk in _chunks(body["model"], said)] + ["[DONE]"], delay)
        message = {"role": "assistant", "content": said}
        return JSONResponse(
            {
                "id": f"chatcmpl-{time.monotonic_ns()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )

    with serving(lambda fake: [Route("/v1/chat/completions", fake.handle, methods=["POST"])], reply) as fake:
        fake.base_url += "/v1"
        yield fake


def _chunks(model: str, text: str) -> list[dict[str, Any]]:
    """chat.completion.chunk objects: the role, each word of `text` (with the space before it), the stop."""
    words = re.findall(r"\s*\S+", text)
    deltas = [{"role": "assistant", "content": ""}] + [{"content": word} for word in words]
    base = {"id": f"chatcmpl-{time.monotonic_ns()}", "object": "chat.completion.chunk", "created": 1, "model": model}
    chunks = [{**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]} for delta in deltas]
    return chunks + [{**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]


def user_prompt(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
