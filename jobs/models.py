"""Models a worker loads on first use and keeps: loading one takes longer than a short job."""

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from spek.embeddings import Embedder, create_embedder
from spek.settings import Settings

T = TypeVar("T")

# Jobs load models from their worker threads; one at a time, so each model is loaded once.
_loading = threading.Lock()


def load_once(ctx: dict[str, Any], key: str, load: Callable[[], T]) -> T:
    """The worker's model `key`, loaded by `load()` the first time. Kept in `ctx["models"]`, the dict the
    worker puts in its context at start-up: ARQ runs each job with a shallow copy of that context
    (`{**worker.ctx, "job_id": …}`), so a model stored on the job's own copy would be loaded again by
    every job."""
    models: dict[str, Any] = ctx["models"]
    with _loading:
        if key not in models:
            models[key] = load()
        model: T = models[key]
        return model


def embedder(ctx: dict[str, Any]) -> Embedder:
    """The text embedder (SPEK_EMBEDDING_MODEL), shared by every job that indexes for search."""
    settings: Settings = ctx["settings"]
    return load_once(ctx, "embedder", lambda: create_embedder(settings.embedding_model))
