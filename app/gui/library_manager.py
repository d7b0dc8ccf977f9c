"""The library in the window: its index kept up to date in the background, and questions asked of it.

Indexing runs on a thread of its own at low priority (never one of the pool's, which the reader's
questions need), a document at a time, and is paused by stopping it: the index keeps everything
done, so resuming (or the next start) goes on where it stopped. The disk is checked for new,
changed and gone files when the window starts, when a folder is added and every few minutes.

A question for the library is searched on the pool; its best passages become one document (the
``ReadingSet``) that the window reads and shows as it does any document, each passage under a
heading naming its file; an answer chosen there opens its own document at the answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QThreadPool, QTimer, Signal

from ..core.documents import Document
from ..core.embedding import Embedder, open_embedder
from ..core.errors import ReadingAssistantError
from ..core.library import Library, LibraryDocument, LibraryError, ReadingSet
from ..core.library.indexer import IndexProgress
from ..core.library.meaning import LibraryMeaning, PassageMeaning
from ..core.library.store import default_library_path
from ..core.reading import DocumentInput
from .tasks import CallTask, Task
from .words import plural

log = logging.getLogger(__name__)

SYNC_EVERY_MS = 5 * 60 * 1000
BACKGROUND_NICENESS = 15  # how much lower than the window the indexing thread runs (Unix)


class IndexTask(Task):
    """Sync the library with the disk, then read and embed what waits; each step is a signal."""

    def __init__(self, job: int, path: Path, embedder: Embedder | None) -> None:
        super().__init__(job)
        self.path, self.embedder = path, embedder

    def work(self) -> dict[str, int]:
        lower_this_threads_priority()
        library = Library(self.path, self.embedder)
        try:
            library.sync(self.stop_requested.is_set)
            self.send(self.signals.note, "synced")
            for progress in library.index(self.stop_requested.is_set):
                self.send(self.signals.partial, progress)
            return library.counts()
        finally:
            library.close()


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def lower_this_threads_priority() -> None:
    """The indexing thread yields the processor to the window and its questions."""
    thread = QThread.currentThread()
    if thread is not None:
        thread.setPriority(QThread.Priority.LowestPriority)
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        with contextlib.suppress(OSError):  # a thread's nice value, on Linux
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


class LibraryManager(QObject):
    """What the window knows and does about the library."""

    changed = Signal()  # the documents or their states changed: the panel reads them again
    progress = Signal(object)  # IndexProgress, or None when indexing is not running
    paused_changed = Signal(bool)
    message = Signal(str)  # a sentence for the status bar
    reading_set_ready = Signal(object, str)  # ReadingSet, the question
    search_failed = Signal(str)

    def __init__(
        self, path: Path | None = None, pool: QThreadPool | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.path = path or default_library_path()
        self.pool = pool or QThreadPool.globalInstance()
        self.index_pool = QThreadPool(self)
        self.index_pool.setMaxThreadCount(1)
        self.embedder: Embedder | None = None
        self._embedder_opening = False
        self._embedder_ready = False  # opened, or failed to open (then the library is searched by words)
        self.paused = False
        self.error: str | None = None
        self._library: Library | None = None  # the window's own reads and changes
        self._searcher: Library | None = None  # questions, on the pool: a connection of their own
        self._meaning: LibraryMeaning | None = None  # on the searcher's connection
        self._waiting_to_add: list[Path] = []  # added before the library was open
        self._closed = False
        self._lock = threading.Lock()  # one question at a time on that connection
        self._indexing: IndexTask | None = None
        self._again = False  # something changed while indexing: run once more after it
        self._job = 0
        self._reading_sets: dict[str, ReadingSet] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(SYNC_EVERY_MS)
        self._timer.timeout.connect(self.update_index)

    # -- the library file -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the library on the pool (checking a large file for damage takes a while; a damaged
        one is set aside and said so), then bring it up to date."""
        path = self.path

        def open_both() -> tuple[Library, Library]:
            library = Library(path)
            return library, Library(path, verify=False)

        task = CallTask(self._next_job(), open_both)
        task.signals.finished.connect(lambda _, opened: self._opened(*opened))
        task.signals.failed.connect(lambda _, why: self._not_opened(why))
        self.pool.start(task, 1)

    def _opened(self, library: Library, searcher: Library) -> None:
        if self._closed:  # the window closed while it was opened
            library.close()
            searcher.close()
            return
        self._library, self._searcher = library, searcher
        if library.notice:
            self.message.emit(library.notice)
        self._timer.start()
        self.changed.emit()
        if self._waiting_to_add:
            paths, self._waiting_to_add = self._waiting_to_add, []
            self.add(paths)
        elif self.folders():
            self._open_embedder()

    def _not_opened(self, why: str) -> None:
        self.error = why
        self.message.emit(why)

    def _open_embedder(self) -> None:
        """The meaning model, opened once the library has something to index (a reader without a
        library never loads it); indexing starts when it is ready, or without it if it fails."""
        if self._embedder_opening:
            return
        self._embedder_opening = True
        # One thread: the reader's own questions keep the other cores.
        task = CallTask(self._next_job(), lambda: open_embedder(threads=1))
        task.signals.finished.connect(self._embedder_opened)
        task.signals.failed.connect(lambda _, why: self._embedder_opened(0, None, why))
        self.pool.start(task)

    def _embedder_opened(self, _job: int, embedder: Embedder | None, why: str = "") -> None:
        if embedder is None:
            log.warning("the embedding model could not be opened: %s", why)
            self.message.emit("The library is searched by words only: its meaning model could not be opened")
        self.embedder = embedder
        self._embedder_ready = True
        if self._searcher is not None:
            self._searcher.embedder = embedder
        self.update_index()

    @property
    def is_open(self) -> bool:
        return self._library is not None

    def folders(self) -> list[str]:
        return self._read(lambda library: library.folders(), [])

    def documents(self) -> list[LibraryDocument]:
        return self._read(lambda library: library.documents(), [])

    def counts(self) -> dict[str, int]:
        return self._read(lambda library: library.counts(), {})

    def _read(self, what, otherwise):
        if self._library is None:
            return otherwise
        try:
            return what(self._library)
        except LibraryError as error:
            self.message.emit(str(error))
            return otherwise

    # -- folders ------------------------------------------------------------------------------------

    def add(self, paths: list[Path]) -> None:
        """Add folders or files; they are indexed in the background."""
        if self._library is None:
            if self.error is None:
                self._waiting_to_add += paths  # added as soon as it is open
            else:
                self.message.emit(self.error)
            return
        added = []
        for path in paths:
            try:
                added.append(self._library.add(path))
            except (ReadingAssistantError, OSError) as error:  # not there, not supported, a full disk
                self.message.emit(str(error))
        if added:
            self.message.emit(f"Added to the library: {', '.join(Path(p).name for p in added)}")
            self.changed.emit()
            self.update_index()

    def remove(self, path: str) -> None:
        """Take a folder or document out, on the pool: its words are purged from the index, which
        takes a while in a large library."""
        if self._library is None:
            return
        library_path = self.path

        def take_out() -> int:
            library = Library(library_path, verify=False)
            try:
                return library.remove(path)
            finally:
                library.close()

        task = CallTask(self._next_job(), take_out)
        task.signals.finished.connect(lambda _, removed: self._removed(path, removed))
        task.signals.failed.connect(lambda _, why: self.message.emit(why))
        self.pool.start(task)

    def _removed(self, path: str, removed: int) -> None:
        self.message.emit(f"Taken out of the library: {Path(path).name} ({plural(removed, 'document')})")
        self.changed.emit()

    # -- indexing -----------------------------------------------------------------------------------

    def update_index(self) -> None:
        """Sync with the disk and index what waits, unless paused; once more after a running one."""
        if self._library is None or self.paused:
            return
        if not self._embedder_ready:
            self._open_embedder()  # indexing starts when it is ready
            return
        if self._indexing is not None:
            self._again = True
            return
        task = IndexTask(self._next_job(), self.path, self.embedder)
        task.signals.partial.connect(lambda _, progress: self._indexed(progress))
        task.signals.note.connect(lambda *_: self.changed.emit())
        for ended in (task.signals.finished, task.signals.failed, task.signals.cancelled):
            ended.connect(lambda job, *rest: self._index_ended(job, rest[0] if rest else None))
        self._indexing = task
        self.index_pool.start(task)

    def _indexed(self, progress: IndexProgress) -> None:
        self.progress.emit(progress)
        if progress.done == progress.total or progress.done % 10 == 0:
            self.changed.emit()

    def _index_ended(self, job: int, outcome: object) -> None:
        if self._indexing is None or job != self._indexing.job:
            return
        self._indexing = None
        self.progress.emit(None)
        self.changed.emit()
        if isinstance(outcome, str) and not self.paused:
            busy = outcome.startswith("Another window")
            self.message.emit(outcome if busy else f"Indexing stopped: {outcome}")
            return
        if self._again:
            self._again = False
            self.update_index()

    def set_paused(self, paused: bool) -> None:
        """Pause (the work done is kept) or resume indexing."""
        self.paused = paused
        if paused and self._indexing is not None:
            self._indexing.stop_requested.set()
        self.paused_changed.emit(paused)
        if not paused:
            self.update_index()

    def shutdown(self) -> None:
        self._closed = True
        self._timer.stop()
        if self._indexing is not None:
            self._indexing.stop_requested.set()
            self._indexing.done.wait(5.0)
        for library in (self._library, self._searcher):
            if library is not None:
                with self._lock:
                    library.close()
        self._library = self._searcher = None

    # -- asking -------------------------------------------------------------------------------------

    def search(self, question: str, folder: str | None = None) -> None:
        """Find the passages for ``question`` on the pool; ``reading_set_ready`` brings them."""
        if self._library is None or self._searcher is None:
            self.search_failed.emit(self.error or "The library is still being opened: ask again in a moment")
            return
        if not self.counts().get("indexed"):
            self.search_failed.emit("The library has no documents yet: add a folder to it from the File menu")
            return
        library = self._searcher

        def find() -> ReadingSet:
            with self._lock:
                where = f"Library, {Path(folder).name}" if folder else "Library"
                return ReadingSet(library.search(question, folder), f"{where}: {short(question)}")

        task = CallTask(self._next_job(), find)
        task.signals.finished.connect(lambda _, reading: self._found(reading, question, folder))
        task.signals.failed.connect(lambda _, why: self.search_failed.emit(why))
        self.pool.start(task, 2)

    def _found(self, reading: ReadingSet, question: str, folder: str | None) -> None:
        if not reading.hits:
            where = "this folder of your library" if folder else "your library"
            self.search_failed.emit(f"Not in {where}: no passage shares a word or a meaning with the question")
            return
        self._reading_sets[reading.document.id] = reading
        self.reading_set_ready.emit(reading, question)

    def meaning(self, document: DocumentInput, question: str) -> list[PassageMeaning]:
        """The cosine between ``question`` and each passage of ``document`` where the library has
        embedded it (the controller's ``meaning`` hook, asked on the reading thread); nothing for a
        document it does not hold, or before its meaning model is open."""
        searcher = self._searcher
        if searcher is None or searcher.embedder is None:
            return []
        with self._lock:
            if self._meaning is None or self._meaning.library is not searcher:
                self._meaning = LibraryMeaning(searcher)
            return self._meaning(document, question)

    def reading_set_of(self, document: Document | None) -> ReadingSet | None:
        return self._reading_sets.get(document.id) if document is not None else None

    def source_of(self, path: str) -> Document | None:
        """A library document as the index keeps it (used when its file has gone or changed)."""
        return self._read(lambda library: library.document(path), None)

    def _next_job(self) -> int:
        self._job += 1
        return self._job
