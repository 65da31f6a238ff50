"""Google Gemini through the official `google-genai` client (its async API). The key comes from the caller
(GEMINI_API_KEY); `base_url` points the client elsewhere (a proxy, or a fake server in tests)."""

import importlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from spek.llm import ChatMessage, LLMError, LLMUnavailable, RateLimited, connection_failure

if TYPE_CHECKING:
    from google.genai import types

# Gemini models hold a million tokens; a note's map-reduce needs no more than this per request.
CONTEXT_TOKENS = 32768
TIMEOUT_SECONDS = 120
RETRIES = 1


def _failures() -> tuple[type[Exception], ...]:
    """What a failed request raises: an answer with an error status, or a failed connection (google-genai
    talks through aiohttp when it is installed, else httpx)."""
    from google.genai import errors

    found: list[type[Exception]] = [errors.APIError, OSError, TimeoutError]
    for module, name in (("aiohttp", "ClientError"), ("httpx", "TransportError"), ("httpx2", "TransportError")):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


class GeminiLLM:
    def __init__(self, model: str, api_key: str | None, base_url: str | None = None) -> None:
        if not api_key:
            raise LLMUnavailable("SPEK_LLM_PROVIDER=gemini needs an API key: set GEMINI_API_KEY.")
        try:
            from google import genai
            from google.genai import types
        except ImportError as error:
            raise LLMUnavailable("SPEK_LLM_PROVIDER=gemini needs google-genai: pip install google-genai") from error
        self.name = model
        self.context_tokens = CONTEXT_TOKENS
        self._where = base_url or "https://generativelanguage.googleapis.com"
        options = types.HttpOptions(
            base_url=base_url,
            timeout=TIMEOUT_SECONDS * 1000,  # milliseconds
            # One retry for a dropped connection or a 429/5xx blip. Set, because without it google-genai
            # retries a refused connection once after a random 1-10 s sleep.
            retry_options=types.HttpRetryOptions(attempts=1 + RETRIES, initial_delay=0.5, jitter=0.5),
        )
        self._client = genai.Client(api_key=api_key, http_options=options)
        self._failures = _failures()

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1  # an estimate: counting exactly would cost a request

    def _request(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: dict[str, Any] | None
    ) -> tuple[list["types.Content"], "types.GenerateContentConfig"]:
        from google.genai import types

        # Gemini keeps system text apart, and calls the assistant "model".
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        contents = [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.content)])
            for m in messages
            if m.role != "system"
        ]
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            max_output_tokens=max_tokens,
            temperature=temperature,
            # The JSON Schema as it is (response_schema takes only an OpenAPI subset and drops keywords).
            response_mime_type="application/json" if json_schema is not None else None,
            response_json_schema=json_schema,
        )
        return contents, config

    def _failure(self, error: Exception) -> LLMError:
        from google.genai import errors

        if isinstance(error, errors.APIError):
            message = f"Gemini at {self._where} answered HTTP {error.code} for model {self.name!r}: {error.message}"
            return RateLimited(message) if error.code == 429 else LLMError(message)
        return LLMError(f"Gemini at {self._where} did not answer ({connection_failure(error)}).")

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        from google.genai import types

        contents, config = self._request(messages, max_tokens, temperature, json_schema)
        try:
            answer = await self._client.aio.models.generate_content(model=self.name, contents=contents, config=config)
        except self._failures as error:
            raise self._failure(error) from error
        text = answer.text or ""
        if not text and answer.candidates and answer.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS:
            # Thinking models spend output tokens before they answer.
            raise LLMError(f"Gemini model {self.name!r} used all {max_tokens} output tokens before answering.")
        return text

    async def stream(
        self, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.2
    ) -> AsyncGenerator[str, None]:
        contents, config = self._request(messages, max_tokens, temperature, None)
        try:
            chunks = await self._client.aio.models.generate_content_stream(
                model=self.name, contents=contents, config=config
            )
            async for chunk in chunks:
                if chunk.text:
                    yield chunk.text
        except self._failures as error:
            raise self._failure(error) from error
