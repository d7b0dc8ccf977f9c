"""The reader's library: folders and files indexed once, in SQLite, and asked as one.

``Library`` is the one way in for the window, the command line, the API and the server: add and
remove folders, bring the index in line with the disk, index what waits (words, then meaning),
search, and ask with a reading engine.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..documents import Document
from ..documents.formats import is_paged
from ..options import MODELS_OWN, Choices
from ..reading import ReadingEngine, StopCheck
from .asking import LibraryAnswer, LibraryPrediction, ReadingSet, ask_passages
from .content import unpack
from .indexer import EMBEDDING, READING, Indexer, IndexerBusy, IndexProgress, TextEmbedder
from .scanning import SyncResult, add_folder, remove_folder, sync
from .search import MeaningIndex, PassageHit, search
from .store import FAILED, INDEXED, WAITING, LibraryDocument, LibraryError, LibraryStore, default_library_path

__all__ = [
    "EMBEDDING",
    "FAILED",
    "INDEXED",
    "READING",
    "WAITING",
    "IndexProgress",
    "IndexerBusy",
    "Library",
    "LibraryAnswer",
    "LibraryDocument",
    "LibraryError",
    "LibraryPrediction",
    "PassageHit",
    "ReadingSet",
    "SyncResult",
]

PASSAGES_READ = 24  # the passages a library question reads: hybrid recall@24 is measured by the bench


class Library:
    """One library file, opened in this thread (open another ``Library`` in another thread)."""

    def __init__(self, path: Path | None = None, embedder: TextEmbedder | None = None, verify: bool = True) -> None:
        self.store = LibraryStore(path, verify=verify)
        self.embedder = embedder
        self.meaning = MeaningIndex()

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def notice(self) -> str | None:
        """Said once to the reader when a damaged index was set aside."""
        return self.store.notice

    def close(self) -> None:
        self.store.close()

    def add(self, path: Path | str) -> str:
        return add_folder(self.store, path)

    def remove(self, path: Path | str) -> int:
        return remove_folder(self.store, path)

    def folders(self) -> list[str]:
        return self.store.folders()

    def documents(self, folder: str | None = None) -> list[LibraryDocument]:
        return self.store.documents(folder)

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def sync(self, should_stop: StopCheck | None = None) -> SyncResult:
        return sync(self.store, should_stop)

    def index(self, should_stop: StopCheck | None = None) -> Iterator[IndexProgress]:
        """Read and embed whatever waits; raises ``IndexerBusy`` when another program is at it."""
        return Indexer(self.store, self.embedder).run(should_stop)

    def document(self, path: str) -> Document | None:
        """A document as the library keeps it (its text and structure), None if not indexed."""
        rows = self.store.read("SELECT name, content FROM documents WHERE path = ? AND content IS NOT NULL", (path,))
        return unpack(rows[0][1], rows[0][0], origin=path) if rows else None

    def search(self, question: str, folder: str | None = None, limit: int = PASSAGES_READ) -> list[PassageHit]:
        return search(self.store, question, self.embedder, self.meaning, folder, limit)

    def ask(
        self,
        engine: ReadingEngine,
        question: str,
        folder: str | None = None,
        choices: Choices = MODELS_OWN,
        should_stop: StopCheck | None = None,
    ) -> LibraryPrediction:
        """The library's answers to ``question`` (of ``folder`` only, when given)."""
        started = time.perf_counter()
        hits = self.search(question, folder)
        return ask_passages(engine, hits, question, choices, should_stop, started)


def kept_document(path: Path, library_path: Path | None = None) -> Document | None:
    """The library's copy of a file that has not changed since it was indexed, so opening it again
    reads neither the file nor its format; None when there is none (not in the library, changed
    since, or a format shown as pages, whose boxes only the file has). Never raises: the file is
    then read as usual."""
    library_path = library_path or default_library_path()
    try:
        status = path.stat()
        if is_paged(path.name) or not library_path.is_file():
            return None
        store = LibraryStore(library_path, create=False, verify=False)
        try:
            rows = store.read(
                "SELECT content FROM documents WHERE path = ? AND size = ? AND mtime_ns = ? AND content IS NOT NULL",
                (str(path.resolve()), status.st_size, status.st_mtime_ns),
            )
        finally:
            store.close()
        return unpack(rows[0][0], path.name, origin=str(path)) if rows else None
    except (OSError, LibraryError, sqlite3.Error, ValueError, KeyError, zlib.error):
        return None
