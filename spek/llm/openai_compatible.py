"""Any OpenAI-compatible chat server (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI itself) through the
official `openai` client."""

import asyncio
import weakref
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from spek.llm import ChatMessage, LLMError, LLMUnavailable, RateLimited, connection_failure

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

# What remote models hold at the least; the server enforces its own.
CONTEXT_TOKENS = 8192
TIMEOUT_SECONDS = 120
# One retry covers a dropped connection or a 429/5xx blip; more would keep a job waiting on a dead server.
MAX_RETRIES = 1


def _messages(messages: list[ChatMessage]) -> Any:
    """In the wire format (the client's own TypedDicts would only restate it)."""
    return [{"role": m.role, "content": m.content} for m in messages]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: rare enough to fall back on our own backoff
        return None


class OpenAICompatibleLLM:
    def __init__(self, base_url: str, model: str, api_key: str | None) -> None:
        try:
            from openai import AsyncOpenAI
        except ImportError as error:
            raise LLMUnavailable("SPEK_LLM_PROVIDER=openai needs the openai package: pip install openai") from error
        self.name = model
        self.context_tokens = CONTEXT_TOKENS
        self._base_url = base_url
        # Servers such as Ollama need no key; the client insists on one.
        self._new_client = lambda: AsyncOpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=TIMEOUT_SECONDS, max_retries=MAX_RETRIES
        )
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenAI] = weakref.WeakKeyDictionary()

    @property
    def _client(self) -> "AsyncOpenAI":
        """One client per event loop: its pooled connections belong to the loop that opened them, and a model
        loaded once may serve several loops (each asyncio.run, each test)."""
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = self._new_client()
        return self._clients[loop]

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1  # an estimate: the server's tokenizer is not ours to run

    def _failure(self, error: "openai.OpenAIError") -> LLMError:
        import openai

        where = f"The OpenAI-compatible server at {self._base_url}"
        if isinstance(error, openai.APITimeoutError):
            return LLMError(f"{where} did not answer within {TIMEOUT_SECONDS} s.")
        if isinstance(error, openai.APIConnectionError):
            return LLMError(f"{where} did not answer ({connection_failure(error)}).")
        if isinstance(error, openai.APIStatusError):
            # The server's own words, without the client's "Error code: 500 - " in front.
            body = error.body if isinstance(error.body, dict) else {}
            said = body.get("message", error.message)
            message = f"{where} answered HTTP {error.status_code} for model {self.name!r}: {said}"
            if error.status_code == 429:
                return RateLimited(message, _seconds(error.response.headers.get("retry-after")))
            return LLMError(message)
        return LLMError(f"{where} failed: {error}")

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        import openai

        extra: dict[str, Any] = {}
        if json_schema is not None:
            # Not "strict": strict mode demands additionalProperties=false everywhere, which many schemas lack.
            extra["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema}}
        try:
            answer = await self._client.chat.completions.create(
                model=self.name,
                messages=_messages(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                **extra,
            )
        except openai.OpenAIError as error:
            raise self._failure(error) from error
        if not answer.choices:
            raise LLMError(f"The OpenAI-compatible server at {self._base_url} sent an answer with no choices.")
        return answer.choices[0].message.content or ""

    async def stream(
        self, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.2
    ) -> AsyncGenerator[str, None]:
        import openai

        try:
            chunks = await self._client.chat.completions.create(
                model=self.name,
                messages=_messages(messages),
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            async with chunks:  # closes the HTTP response when the caller stops listening early
                async for chunk in chunks:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content
        except openai.OpenAIError as error:
            raise self._failure(error) from error
