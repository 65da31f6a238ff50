"""Queries embedded where they arrive (the API): the model loads on the first semantic search, once."""

import anyio

from spek.embeddings import Embedder, create_embedder
from spek.search.service import QueryVector


class QueryEmbedder:
    def __init__(self, model: str) -> None:
        self._model = model
        self._embedder: Embedder | None = None
        self._loading = anyio.Lock()

    async def __call__(self, query: str) -> QueryVector:
        async with self._loading:
            if self._embedder is None:
                self._embedder = await anyio.to_thread.run_sync(create_embedder, self._model)
        embedder = self._embedder
        return QueryVector(embedder.name, await anyio.to_thread.run_sync(embedder.embed_query, query))
