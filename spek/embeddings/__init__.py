"""Text embeddings for search. Backends turn text into L2-normalized float32 vectors; ML only, no HTTP or SQL."""

import unicodedata
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "minilm"
# Texts embedded per forward pass: bounds memory on long lists, big enough to keep the CPU busy.
BATCH_SIZE = 64


class Embedder(Protocol):
    name: str  # recorded with every vector: vectors of different models must never be compared
    dimension: int
    latin_only: bool  # trained on English (Latin script) only: text in other scripts gets vectors of little use

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """float32, shape (len(texts), dimension), each row of length 1."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32, shape (dimension,), length 1; comparable with embed_documents' rows by dot product."""
        ...


def reads(embedder: Embedder, text: str) -> bool:
    """Whether the model was trained on text like this: a Latin-only model cannot read Cyrillic, Greek, CJK…"""
    return not embedder.latin_only or all(unicodedata.name(c, "").startswith("LATIN") for c in text if c.isalpha())


class EmbedderUnavailable(RuntimeError):
    """The configured model cannot run here (unknown name, missing package or folder); says what to do."""


def model_name(model: str) -> str:
    """The name that vectors of `model` (a SPEK_EMBEDDING_MODEL value) are stored under, without loading it."""
    if model == "minilm":
        from spek.embeddings.sentence_transformers_backend import MINILM_NAME

        return MINILM_NAME
    if model == "e5-small":
        from spek.embeddings.e5 import E5_NAME

        return E5_NAME
    return Path(model).expanduser().absolute().name


def create_embedder(model: str = DEFAULT_MODEL, threads: int = 0) -> Embedder:
    """`model`: "minilm", "e5-small" or a sentence-transformers model folder; `threads`: 0 = the library's default."""
    if model == "minilm":
        from spek.embeddings.sentence_transformers_backend import (
            MINILM_NAME,
            SentenceTransformerEmbedder,
            minilm_folder,
        )

        return SentenceTransformerEmbedder(minilm_folder(), MINILM_NAME, threads, latin_only=True)
    if model == "e5-small":
        from spek.embeddings.e5 import E5Embedder

        return E5Embedder(threads)
    folder = Path(model).expanduser()
    if folder.is_dir():
        from spek.embeddings.sentence_transformers_backend import SentenceTransformerEmbedder

        # The folder's own name (not where a link points): e.g. paraphrase-multilingual-MiniLM-L12-v2.
        return SentenceTransformerEmbedder(folder, model_name(model), threads)
    raise EmbedderUnavailable(
        "SPEK_EMBEDDING_MODEL must be 'minilm', 'e5-small' or the folder of a sentence-transformers model, "
        f"not {model!r}."
    )
