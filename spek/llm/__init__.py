"""Language models behind one small async interface: `complete` (optionally JSON constrained by a schema)
and `stream` (text deltas). ML only: no HTTP server, no SQL. Providers are chosen by a setting:
`local` (llama.cpp on a GGUF file from a PyPI wheel, offline), `openai` (any OpenAI-compatible server),
`gemini` (Google Gemini)."""

import os
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PROVIDERS = ("local", "openai", "gemini")
DEFAULT_LOCAL_MODEL = "qwen2.5-0.5b"
# The local model names: a remote provider left with one of them was not given its own model.
LOCAL_MODELS = ("qwen2.5-0.5b", "smollm2-135m")


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


class LLM(Protocol):
    name: str
    context_tokens: int  # what one request may hold, prompt and answer together

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """The whole answer; with `json_schema`, JSON that follows it (constrained decoding where the provider
        has it). An answer cut short by `max_tokens` may be incomplete JSON: callers parse and check."""
        ...

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.2
    ) -> AsyncGenerator[str, None]:
        """The answer as it is generated, in text deltas."""
        ...

    def count_tokens(self, text: str) -> int:
        """Exact for the local model, an estimate (characters / 4) for remote ones."""
        ...


class LLMUnavailable(RuntimeError):
    """The configured model cannot run here (missing package, weights or key); says what to set or install."""


class LLMError(RuntimeError):
    """The model failed or could not be reached while answering; says what happened, for a person."""


class RateLimited(LLMError):
    """The provider refused the request for now (HTTP 429): asking again later may work."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, when the provider said


def connection_failure(error: BaseException) -> str:
    """Why a connection failed, in the system's words ("Connection refused"): clients wrap the OS error in
    their own ("Connection error.", "All connection attempts failed"), which say nothing a person can act on."""
    seen: set[int] = set()
    chain: list[BaseException | None] = [error]
    while chain:
        current = chain.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.errno, int):
            return os.strerror(current.errno)
        chain += [current.__context__, current.__cause__]
    return str(error) or type(error).__name__


def create_llm(
    provider: str,
    *,
    model: str,
    base_url: str | None,
    api_key: str | None,
    threads: int,
    cache_dir: Path,
) -> LLM:
    """`model`: for `local`, "qwen2.5-0.5b", "smollm2-135m" or a .gguf path (empty: the default); else the
    provider's model name. `threads` (local only): 0 lets llama.cpp choose. `cache_dir`: where split weights
    are joined once. Loading the local model blocks for seconds: call this from a worker thread."""
    if provider == "local":
        from spek.llm.local import LocalLLM

        return LocalLLM.load(model or DEFAULT_LOCAL_MODEL, cache_dir, threads)
    if provider in ("openai", "gemini") and (not model or model in LOCAL_MODELS):
        example = "llama3.2 for Ollama" if provider == "openai" else "gemini-2.5-flash"
        raise LLMUnavailable(
            f"SPEK_LLM_PROVIDER={provider} needs SPEK_LLM_MODEL set to one of its models, e.g. {example}."
        )
    if provider == "openai":
        from spek.llm.openai_compatible import OpenAICompatibleLLM

        if not base_url:
            raise LLMUnavailable("SPEK_LLM_PROVIDER=openai needs SPEK_LLM_BASE_URL, e.g. http://localhost:11434/v1.")
        return OpenAICompatibleLLM(base_url, model, api_key)
    if provider == "gemini":
        from spek.llm.gemini import GeminiLLM

        return GeminiLLM(model, api_key, base_url)
    raise LLMUnavailable(f"SPEK_LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, not {provider!r}.")
