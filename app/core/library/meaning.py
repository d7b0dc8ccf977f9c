"""What the library knows of a document's meaning, for reading it: the cosine between a question and
each of the document's passages, from the embeddings the indexer made.

Nothing here embeds a document: a book takes seconds, and its first answer never waits for them. A
document the library does not hold, holds another text of (it changed since it was indexed), or
has not wholly embedded yet gives nothing, and the engine ranks its windows by BM25 alone, as
before. ``LibraryMeaning`` is the engine's ``meaning`` hook (``QAEngine.read(..., meaning=...)``).
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..documents import Document
from ..errors import ModelError
from ..reading import DocumentInput
from ..windows import TokenizedText
from .indexer import TextEmbedder
from .store import INDEXED, LibraryError

if TYPE_CHECKING:
    from . import Library

log = logging.getLogger(__name__)

PassageMeaning = tuple[int, int, float]  # a passage's (start, end) in the document's text, and its cosine


def document_vectors(library: Library, path: str, text: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The (start, end) of each passage of the document at ``path`` (as the library keeps paths:
    resolved) and its unit vector (float32), or None: not in the library, not indexed, not every
    passage embedded yet, or (``text`` given) the library's text of it is not ``text``. A library
    that cannot be read (locked, damaged) gives None too, and says why in the log."""
    try:
        rows = library.store.read(
            "SELECT id, passages, embedded FROM documents WHERE path = ? AND state = ?", (path, INDEXED)
        )
        if not rows or rows[0][1] == 0 or rows[0][2] < rows[0][1]:
            return None
        document_id, count, _ = rows[0]
        if text is not None:
            kept = library.document(path)
            if kept is None or kept.text != text:
                return None
        passages = library.store.read(
            "SELECT start, end, embedding FROM passages WHERE document_id = ? AND embedding IS NOT NULL ORDER BY start",
            (document_id,),
        )
    except (LibraryError, sqlite3.Error, ValueError, KeyError, zlib.error) as error:
        log.warning("the library's meaning of %s could not be read: %s", path, error)
        return None
    if not passages or len(passages) != count:
        return None  # it changed while it was read
    spans = np.array([(start, end) for start, end, _ in passages], dtype=np.int64)
    vectors = np.frombuffer(b"".join(blob for _, _, blob in passages), dtype=np.float16)
    return spans, vectors.reshape(count, -1).astype(np.float32)


def passage_meanings(library: Library, path: str, vector: np.ndarray, text: str | None = None) -> list[PassageMeaning]:
    """(start, end, cosine) of each passage of the document at ``path``, ``vector`` being the
    question's unit vector (``embedder.embed([question])[0]``); empty where ``document_vectors``
    gives nothing or the vector is not as wide as the library's."""
    found = document_vectors(library, path, text)
    return [] if found is None else _cosines(*found, vector)


def _cosines(spans: np.ndarray, vectors: np.ndarray, vector: np.ndarray) -> list[PassageMeaning]:
    if vectors.shape[1] != len(vector):
        return []
    cosines = vectors @ np.asarray(vector, dtype=np.float32)
    return [(start, end, cosine) for (start, end), cosine in zip(spans.tolist(), cosines.tolist(), strict=True)]


class LibraryMeaning:
    """The engine's ``meaning`` hook for the documents of one library:
    ``engine.read(pairs, choices, meaning=LibraryMeaning(library))``.

    A document is found by the file it was read from (``Document.origin``), or by ``path`` when one
    is given (text or tokens have no origin); it counts only while the library's text of it is the
    text read, so every offset means the same in both. Only the question is embedded, by
    ``embedder`` (the library's own by default; with none, nothing is known), and only for a
    document the library has embedded; an embedder that fails says so in the log, and the read goes
    on by words alone. The library's connection is used from the thread that reads: open the library
    there. The last document's vectors are kept between its questions.
    """

    def __init__(self, library: Library, embedder: TextEmbedder | None = None, path: str | Path | None = None) -> None:
        self.library = library
        self.embedder = embedder if embedder is not None else library.embedder
        self.path = str(Path(path).resolve()) if path is not None else None
        # (path, the text read, the library's version) -> what document_vectors gave for them.
        self._kept: tuple[str, str, tuple[int, int], tuple[np.ndarray, np.ndarray] | None] | None = None

    def __call__(self, document: DocumentInput, question: str) -> list[PassageMeaning]:
        path = self.path or _origin(document)
        if path is None or self.embedder is None:
            return []
        text = document.text if isinstance(document, Document | TokenizedText) else document
        found = self._vectors(path, text)
        if found is None:
            return []
        try:
            vector = self.embedder.embed([question])[0]
        except ModelError as error:
            log.warning("the question could not be embedded, so the windows are ranked by words: %s", error)
            return []
        return _cosines(*found, vector)

    def _vectors(self, path: str, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            version = self.library.store.version()
        except LibraryError:
            return None
        kept = self._kept
        if kept is not None and kept[0] == path and kept[1] is text and kept[2] == version:
            return kept[3]
        found = document_vectors(self.library, path, text)
        self._kept = (path, text, version, found)
        return found


def _origin(document: DocumentInput) -> str | None:
    """The file ``document`` was read from, as the library keeps its path; None for text or tokens."""
    if not isinstance(document, Document) or document.origin is None:
        return None
    try:
        return str(Path(document.origin).resolve())
    except (OSError, RuntimeError, ValueError):
        return None
