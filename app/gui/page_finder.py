"""Find in the page view: every match of a query in the document's text (which is what the pages
say), searched at once in a short text and on the thread pool in a long one; the view boxes the
matches of the pages it draws, so a word with a million matches costs nothing more."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QWidget

from ..core.documents import Document
from .page_geometry import PageIndex
from .tasks import CallTask, Task
from .text_find import FIND_AT_ONCE_CHARS, find_offsets


class FindPagesHost(Protocol):
    """The page view a finder searches, as the finder sees it."""

    document: Document | None
    index: PageIndex
    find_changed: SignalInstance

    @property
    def ready(self) -> bool: ...

    def middle_page(self) -> int: ...

    def viewport(self) -> QWidget: ...

    def start_task(self, task: Task) -> None: ...


class PageFinder:
    def __init__(self, view: FindPagesHost) -> None:
        self.view = view
        self.query = ""
        self.pending = False
        self.error = ""
        self.index = -1
        self.tasks: set[Task] = set()
        self._generation = 0
        self._starts = np.zeros(0, dtype=np.int64)
        self._ends = np.zeros(0, dtype=np.int64)

    @property
    def count(self) -> int:
        return len(self._starts)

    def match(self, index: int) -> tuple[int, int]:
        return int(self._starts[index]), int(self._ends[index])

    def spans_on(self, page: int) -> tuple[np.ndarray, np.ndarray]:
        return self.view.index.spans_on(page, self._starts, self._ends)

    def forget(self) -> None:
        self.stop()
        self.query, self.pending, self.error = "", False, ""
        self._set(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def search(self, query: str) -> int:
        """Their number, or -1 while they are searched for (``find_changed`` says when they are in)."""
        self.stop()
        self.query, self.error, self.pending = query, "", False
        self._set(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        document = self.view.document
        if not query or document is None:
            return 0
        if not self.view.ready or len(document.text) > FIND_AT_ONCE_CHARS:
            self.pending = True
            if self.view.ready:
                self._search_in_pool(document.text, query)
            return -1
        self._set(*find_offsets(document.text, query))
        return self.count

    def document_shown(self) -> None:
        """The pages are laid out: a search asked for before runs now."""
        if self.pending and self.query and self.view.document is not None:
            self._search_in_pool(self.view.document.text, self.query)

    def _search_in_pool(self, text: str, query: str) -> None:
        generation = self._generation
        task = CallTask(generation, lambda stop: find_offsets(text, query, stop), stoppable=True)
        task.signals.finished.connect(self._found)
        task.signals.failed.connect(self._failed)
        self.view.start_task(task)

    def _found(self, generation: int, matches: tuple[np.ndarray, np.ndarray]) -> None:
        if generation == self._generation:
            self.pending = False
            self._set(*matches)
            self.view.viewport().update()
            self.view.find_changed.emit()

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.pending, self.error = False, message
            self.view.find_changed.emit()

    def _set(self, starts: np.ndarray, ends: np.ndarray) -> None:
        self._starts, self._ends, self.index = starts, ends, -1

    def step(self, delta: int) -> int:
        """The next (previous) match from the page on screen; its index, or -1 without matches."""
        count = self.count
        if not count:
            return -1
        if self.index < 0:
            page = self.view.middle_page() if self.view.ready else 0
            here = int(self.view.index.first[page]) if self.view.index.page_count else 0
            index = int(np.searchsorted(self._starts, here, "left"))
            self.index = (index if delta > 0 else index - 1) % count
        else:
            self.index = (self.index + delta) % count
        return self.index

    def stop(self) -> None:
        """A newer search (or document) wins: a search still running is told to stop and ignored."""
        self._generation += 1
        for task in self.tasks:
            task.stop_requested.set()
        self.tasks = {task for task in self.tasks if not task.done.is_set()}
