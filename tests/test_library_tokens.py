"""A library document's tokens kept in the library file: taken again only for the same text and
tokenizer, gone with the document. Real files, a real SQLite file, the bundled model's tokenizer."""

from __future__ import annotations

import numpy as np
import pytest

from reading_assistant.core.engine import open_engine
from reading_assistant.core.library import Library
from reading_assistant.core.library.tokens import MIN_KEPT_TOKENS, keep_tokens, kept_tokens

SENTENCE = "The harbour master of town {n} counted {k} ships in the year {y}, and its bridge was painted red.\n"


@pytest.fixture(scope="module")
def engine():
    return open_engine(device="cpu")


@pytest.fixture
def shelf(tmp_path):
    """A library holding one long document and one short one, indexed."""
    folder = tmp_path / "shelf"
    folder.mkdir()
    book = folder / "harbour.txt"
    book.write_text("".join(SENTENCE.format(n=n, k=n % 90, y=1700 + n % 300) for n in range(1_200)), encoding="utf-8")
    (folder / "note.txt").write_text("A short note about the harbour.\n", encoding="utf-8")
    path = tmp_path / "library.sqlite3"
    library = Library(path)
    library.add(folder)
    library.sync()
    list(library.index())
    yield library, path, book
    library.close()


def test_a_long_documents_tokens_are_kept_and_taken_again_for_the_same_text(engine, shelf):
    library, path, book = shelf
    document = library.document(str(book.resolve()))
    tokens = engine.tokenize_document(document.text)
    assert len(tokens) > MIN_KEPT_TOKENS
    assert keep_tokens(book, tokens, engine.tokenizer_fingerprint, path)
    again = kept_tokens(book, document.text, engine.tokenizer_fingerprint, path)
    assert again is not None and again.text is document.text
    assert np.array_equal(again.ids, tokens.ids) and np.array_equal(again.offsets, tokens.offsets)
    # Another text of the same file (it changed) or another tokenizer: nothing.
    assert kept_tokens(book, document.text + "And one more line.\n", engine.tokenizer_fingerprint, path) is None
    assert kept_tokens(book, document.text, "another tokenizer", path) is None


def test_tokens_go_when_the_document_leaves_the_library(engine, shelf):
    library, path, book = shelf
    document = library.document(str(book.resolve()))
    assert keep_tokens(book, engine.tokenize_document(document.text), engine.tokenizer_fingerprint, path)
    library.remove(book.parent)
    assert kept_tokens(book, document.text, engine.tokenizer_fingerprint, path) is None
    assert library.store.read("SELECT count(*) FROM tokens")[0][0] == 0


def test_short_documents_files_outside_the_library_and_no_library_keep_nothing(engine, shelf, tmp_path):
    _, path, book = shelf
    note = book.parent / "note.txt"
    assert not keep_tokens(note, engine.tokenize_document(note.read_text()), engine.tokenizer_fingerprint, path)
    stranger = tmp_path / "stranger.txt"
    stranger.write_text(book.read_text(), encoding="utf-8")
    long_tokens = engine.tokenize_document(stranger.read_text())
    assert not keep_tokens(stranger, long_tokens, engine.tokenizer_fingerprint, path)
    assert not keep_tokens(book, long_tokens, engine.tokenizer_fingerprint, tmp_path / "no-library.sqlite3")
    assert not (tmp_path / "no-library.sqlite3").exists()
