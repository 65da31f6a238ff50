"""Queries embedded where they arrive (the API, or a worker answering a chat): the model loads on the
first semantic search, once."""

from collections.abc import Callable

import anyio

from spek.embeddings import Embedder, create_embedder, reads
from spek.search.service import QueryVector


class QueryEmbedder:
    def __init__(self, model: str | Callable[[], Embedder]) -> None:
        """`model`: a SPEK_EMBEDDING_MODEL value, or what loads the (shared) embedder."""
        self._load = model if callable(model) else lambda: create_embedder(model)
        self._embedder: Embedder | None = None
        self._loading = anyio.Lock()

    async def __call__(self, query: str) -> QueryVector:
        async with self._loading:
            if self._embedder is None:
                self._embedder = await anyio.to_thread.run_sync(self._load)
        embedder = self._embedder
        vector = await anyio.to_thread.run_sync(embedder.embed_query, query)
        return QueryVector(embedder.name, vector, understood=reads(embedder, query))
