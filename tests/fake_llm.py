"""A fake OpenAI-compatible server on loopback: real HTTP, the real wire format, answers chosen by the test."""

import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support import free_port


@dataclass
class FakeOpenAI:
    """`answer(request_body) -> str` writes the assistant's reply; every request body is kept."""

    answer: Callable[[dict], str]
    requests: list[dict] = field(default_factory=list)
    base_url: str = ""

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({**body, "authorization": request.headers.get("authorization")})
        content = self.answer(body)
        if body.get("stream"):
            return StreamingResponse(_chunks(body["model"], content), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            }
        )


async def _chunks(model: str, content: str) -> AsyncIterator[str]:
    """Server-sent events as OpenAI sends them: a chunk per word, then [DONE]."""
    for i, piece in enumerate(re.findall(r"\S+\s*", content)):
        delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
        chunk = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
        yield f"data: {json.dumps({**chunk, 'choices': [{'index': 0, 'delta': delta, 'finish_reason': None}]})}\n\n"
    yield "data: [DONE]\n\n"


@contextmanager
def fake_openai(answer: Callable[[dict], str]) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(answer)
    with _serving(Starlette(routes=[Route("/v1/chat/completions", fake._completions, methods=["POST"])])) as url:
        fake.base_url = url + "/v1"
        yield fake


@dataclass
class FakeGemini:
    """Google's generateContent and streamGenerateContent (SSE), as google-genai calls them."""

    answer: Callable[[dict], str]
    requests: list[dict] = field(default_factory=list)
    base_url: str = ""

    async def _models(self, request: Request) -> Response:
        model, _, method = request.path_params["target"].partition(":")
        body = await request.json()
        self.requests.append({**body, "model": model, "method": method, "key": request.headers.get("x-goog-api-key")})
        text = self.answer(body)
        if method == "streamGenerateContent":
            pieces = re.findall(r"\S+\s*", text)
            events = "".join(f"data: {json.dumps(_candidate(piece, model))}\r\n\r\n" for piece in pieces)
            return Response(events, media_type="text/event-stream")
        return JSONResponse(_candidate(text, model))


def _candidate(text: str, model: str) -> dict:
    content = {"parts": [{"text": text}], "role": "model"}
    usage = {"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 20}
    return {
        "candidates": [{"content": content, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage,
        "modelVersion": model,
    }


@contextmanager
def fake_gemini(answer: Callable[[dict], str]) -> Iterator[FakeGemini]:
    fake = FakeGemini(answer)
    with _serving(Starlette(routes=[Route("/{version}/models/{target:path}", fake._models, methods=["POST"])])) as url:
        fake.base_url = url
        yield fake


@contextmanager
def _serving(app: Starlette) -> Iterator[str]:
    """The app on a free loopback port, in a thread, until the block ends; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def user_prompt(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
