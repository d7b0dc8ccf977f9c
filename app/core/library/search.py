"""The passages of the library that may answer a question: BM25 over their words (SQLite's FTS5)
beside the cosine of their meaning (the embeddings), fused by reciprocal rank as GPT4All's
LocalDocs does. Either ranking alone still works: before the embeddings are made, or without an
embedding model, the words rank alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..language import ENGLISH
from .indexer import TextEmbedder
from .store import LibraryStore, inside

RRF_K = 60  # the usual constant: a passage's fused score is the sum of 1 / (RRF_K + its rank)
CANDIDATES = 200  # passages each ranking offers to the fusion
WORD = re.compile(r"[^\W_]+")
MAX_QUERY_TERMS = 32


@dataclass(frozen=True)
class PassageHit:
    passage_id: int
    document_id: int
    path: str
    name: str
    start: int  # in the document's text
    end: int
    text: str
    location: str  # the page or section it starts in ("" for none)
    score: float  # fused: higher is better


def words_query(question: str) -> str | None:
    """An FTS5 query matching any of the question's words but the commonest (each quoted, so no
    word is read as an operator); None when nothing is left."""
    words = [w for w in WORD.findall(question.casefold()) if w not in ENGLISH]
    unique = list(dict.fromkeys(words))[:MAX_QUERY_TERMS]
    return " OR ".join(f'"{w}"' for w in unique) or None


def _folder_clause(folder: str | None) -> tuple[str, tuple]:
    if folder is None:
        return "", ()
    return " AND (d.path = ? OR (d.path > ? AND d.path < ?))", (folder, *inside(folder))


def by_words(store: LibraryStore, question: str, folder: str | None = None, limit: int = CANDIDATES) -> list[int]:
    """Passage ids by BM25 for the question, best first."""
    query = words_query(question)
    if query is None:
        return []
    clause, parameters = _folder_clause(folder)
    rows = store.read(
        "SELECT passages_fts.rowid FROM passages_fts "
        "JOIN passages p ON p.id = passages_fts.rowid JOIN documents d ON d.id = p.document_id "
        f"WHERE passages_fts MATCH ?{clause} ORDER BY rank LIMIT ?",
        (query, *parameters, limit),
    )
    return [row[0] for row in rows]


class MeaningIndex:
    """Every embedded passage's vector in memory (as float16, 768 bytes each), loaded once and again
    whenever the library changed; one may serve several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._documents = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, 0), dtype=np.float16)

    def _refresh(self, store: LibraryStore) -> None:
        version = store.version()
        if version == self._version:
            return
        rows = store.read("SELECT id, document_id, embedding FROM passages WHERE embedding IS NOT NULL ORDER BY id")
        self._ids = np.array([row[0] for row in rows], dtype=np.int64)
        self._documents = np.array([row[1] for row in rows], dtype=np.int64)
        self._vectors = (
            np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float16).reshape(len(rows), -1)
            if rows
            else np.zeros((0, 0), dtype=np.float16)
        )
        self._version = version

    def by_meaning(
        self, store: LibraryStore, vector: np.ndarray, folder: str | None = None, limit: int = CANDIDATES
    ) -> list[int]:
        """Passage ids by cosine to ``vector`` (a unit vector), best first."""
        with self._lock:
            self._refresh(store)
            ids, documents, vectors = self._ids, self._documents, self._vectors
        if not len(ids) or vectors.shape[1] != len(vector):
            return []
        scores = np.empty(len(ids), dtype=np.float32)
        query = vector.astype(np.float32)
        for first in range(0, len(ids), 65_536):  # float32 a slice at a time: memory stays flat
            scores[first : first + 65_536] = vectors[first : first + 65_536].astype(np.float32) @ query
        if folder is not None:
            clause, parameters = _folder_clause(folder)
            allowed = [row[0] for row in store.read(f"SELECT d.id FROM documents d WHERE 1{clause}", parameters)]
            scores[~np.isin(documents, allowed)] = -np.inf
        count = min(limit, int(np.isfinite(scores).sum()))
        if count == 0:
            return []
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.argsort(-scores[best], kind="stable")]
        return ids[best].tolist()


def fused(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: (id, score) best first; ties keep the first ranking's order."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def search(
    store: LibraryStore,
    question: str,
    embedder: TextEmbedder | None = None,
    meaning: MeaningIndex | None = None,
    folder: str | None = None,
    limit: int = 24,
) -> list[PassageHit]:
    """The ``limit`` passages most likely to answer ``question`` (in ``folder`` only, when given)."""
    rankings = [by_words(store, question, folder)]
    if embedder is not None and meaning is not None:
        vector = embedder.embed([question])[0]
        rankings.append(meaning.by_meaning(store, vector, folder))
    best = fused(rankings)[:limit]
    return passage_hits(store, best)


def passage_hits(store: LibraryStore, scored: Sequence[tuple[int, float]]) -> list[PassageHit]:
    if not scored:
        return []
    marks = ",".join("?" * len(scored))
    rows = store.read(
        "SELECT p.id, p.document_id, d.path, d.name, p.start, p.end, p.text, p.location "
        f"FROM passages p JOIN documents d ON d.id = p.document_id WHERE p.id IN ({marks})",
        tuple(passage_id for passage_id, _ in scored),
    )
    by_id = {row[0]: row for row in rows}
    return [PassageHit(*by_id[i], score) for i, score in scored if i in by_id]
