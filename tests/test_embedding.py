"""The bundled sentence embedder: unit vectors that put a question nearest its own paragraph."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest

from reading_assistant.core.embedding import CONFIG_NAME, MODEL_NAME, Embedder, open_embedder
from reading_assistant.core.errors import Cancelled, ModelError
from reading_assistant.core.paths import BUNDLED_EMBEDDER_NAME, bundled_embedder_dir, bundled_model_dir

PARAGRAPHS = [
    "Honey bees carry pollen from flower to flower while they collect nectar. Almond orchards, apple "
    "trees and many berry crops depend on them, so beekeepers rent their hives to farmers each spring.",
    "The volcano erupted for three weeks, sending ash eight kilometres into the sky. Flights across the "
    "region were cancelled and villages on its slopes were evacuated as lava flowed toward the coast.",
    "Chess reached Europe through Persia and the Arab world. The queen was a weak piece until the late "
    "fifteenth century, when players in Spain let her move any distance along a line.",
    "To bake a sourdough loaf, mix flour, water and salt with an active starter, let the dough rise "
    "slowly overnight, then bake it in a very hot covered pot so the crust stays crisp.",
]
QUESTIONS = [
    "Why do farmers rent beehives?",
    "Why were flights cancelled?",
    "When did the queen become a strong chess piece?",
    "How should I bake sourdough bread?",
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return open_embedder(device="cpu", threads=2)


def test_the_bundled_embedder_gives_unit_vectors_384_wide(embedder):
    vectors = embedder.embed(PARAGRAPHS)
    assert embedder.name == BUNDLED_EMBEDDER_NAME
    assert (embedder.dimensions, embedder.max_tokens) == (384, 256)
    assert vectors.shape == (len(PARAGRAPHS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_a_question_is_closest_to_its_own_paragraph(embedder):
    similarity = embedder.embed(QUESTIONS) @ embedder.embed(PARAGRAPHS).T
    assert list(similarity.argmax(axis=1)) == list(range(len(QUESTIONS)))
    own = np.diag(similarity)
    others = np.where(np.eye(len(QUESTIONS), dtype=bool), -1.0, similarity).max(axis=1)
    assert (own - others > 0.15).all(), similarity


def test_a_batch_gives_what_one_text_at_a_time_gives(embedder):
    texts = [*PARAGRAPHS, *QUESTIONS, "short", PARAGRAPHS[0] * 3]
    batched = embedder.embed(texts, batch_size=32)
    alone = np.stack([embedder.embed([text])[0] for text in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_only_the_first_256_tokens_of_a_long_text_count(embedder):
    words = " ".join(PARAGRAPHS).split()
    book = " ".join(words[i % len(words)] for i in range(5_000))
    long_vector, first_200, first_250 = embedder.embed([book, *(" ".join(book.split()[:n]) for n in (200, 250))])
    assert np.linalg.norm(long_vector) == pytest.approx(1.0, abs=1e-4)
    # 200 words are 232 tokens here, most of what the model reads of the book; 250 words are more than 256.
    assert float(long_vector @ first_200) > 0.97
    np.testing.assert_allclose(first_250, long_vector, atol=1e-6)


def test_texts_without_tokens_get_zeros_and_lone_surrogates_do_not_crash(embedder):
    texts = ["", "  \n\t ", "\ud800", "\x00\x01", "honey \udc00bees", "honey bees"]
    vectors = embedder.embed(texts)
    assert not vectors[:4].any()
    # A lone surrogate becomes U+FFFD, which the BERT tokenizer drops like any unusable character.
    np.testing.assert_allclose(vectors[4], vectors[5], atol=1e-6)
    assert embedder.embed([]).shape == (0, 384)


def test_should_stop_stops_between_batches(embedder):
    asked = []

    def stop_on_the_second_batch() -> bool:
        asked.append(True)
        return len(asked) == 2

    with pytest.raises(Cancelled):
        embedder.embed(PARAGRAPHS * 2, batch_size=3, should_stop=stop_on_the_second_batch)
    assert len(asked) == 2
    assert embedder.embed(PARAGRAPHS, batch_size=1, should_stop=lambda: False).shape == (4, 384)


def test_two_threads_may_share_an_embedder(embedder):
    expected = embedder.embed(PARAGRAPHS + QUESTIONS)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def embed() -> None:
        try:
            for _ in range(3):
                results.append(embedder.embed(PARAGRAPHS + QUESTIONS, batch_size=2))
        except BaseException as error:  # the assertion below shows it
            errors.append(error)

    threads = [threading.Thread(target=embed) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for vectors in results:
        np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_several_texts_a_model_call_pad_without_changing_much(tmp_path, embedder):
    """A folder may let texts share a model call (a float model would); the int8 one's vectors then
    depend a little on the batch, so the bundled folder runs one text a call."""
    assert embedder.texts_per_run == 1
    folder = tmp_path / "batched"
    shutil.copytree(bundled_embedder_dir(), folder)
    config = json.loads((folder / CONFIG_NAME).read_text())
    (folder / CONFIG_NAME).write_text(json.dumps({**config, "texts_per_run": 8}))
    batched = open_embedder(folder, device="cpu", threads=2)
    assert batched.texts_per_run == 8
    texts = [*PARAGRAPHS, *QUESTIONS, ""]
    together, apart = batched.embed(texts), embedder.embed(texts)
    assert not together[-1].any()
    np.testing.assert_allclose(np.linalg.norm(together[:-1], axis=1), 1.0, atol=1e-4)
    assert (np.sum(together * apart, axis=1)[:-1] > 0.98).all()


def test_a_missing_or_broken_folder_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        open_embedder(tmp_path / "nowhere")
    folder = tmp_path / "broken"
    shutil.copytree(bundled_embedder_dir(), folder, ignore=shutil.ignore_patterns(MODEL_NAME))
    with pytest.raises(ModelError, match=MODEL_NAME):
        open_embedder(folder)
    (folder / MODEL_NAME).write_bytes(b"not an onnx model")
    with pytest.raises(ModelError, match="cannot load"):
        open_embedder(folder, device="cpu")
    (folder / CONFIG_NAME).write_text('{"dimensions": "wide"}')
    with pytest.raises(ModelError, match="dimensions"):
        open_embedder(folder)
    (folder / CONFIG_NAME).unlink()
    with pytest.raises(ModelError, match=CONFIG_NAME):
        open_embedder(folder)


def test_an_onnx_model_of_another_kind_is_refused(tmp_path):
    """The question-answering model in an embedder's folder gives a clear error, not wrong vectors."""
    folder = tmp_path / "qa"
    shutil.copytree(bundled_embedder_dir(), folder, ignore=shutil.ignore_patterns(MODEL_NAME))
    shutil.copy(bundled_model_dir() / "model.onnx", folder / MODEL_NAME)
    with pytest.raises(ModelError, match="sentence_embedding"):
        open_embedder(folder, device="cpu")
