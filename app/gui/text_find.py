"""Find in the text view: every match of a query, any case, searched at once in a short text and on the
thread pool in a long one, a slice at a time, and highlighted only around what is on screen (a
common word has millions of matches in a book, and each highlight costs a line layout)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QPalette, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

from ..core.errors import Cancelled
from .colors import find_color
from .qt_text import SLICE_CHARS, QtPositions
from .tasks import CallTask, Task

# Matches highlighted at once, around what is on screen; more follow the view as it scrolls.
MAX_FIND_HIGHLIGHTS = 600
# Texts up to this many characters are searched at once: a few milliseconds of work.
FIND_AT_ONCE_CHARS = 1024 * 1024


def find_offsets(
    text: str, query: str, stop: Callable[[], bool] = lambda: False, slice_chars: int = SLICE_CHARS
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of every match of ``query`` in ``text`` (any case), a slice at a time."""
    pattern = re.compile(re.escape(query), re.IGNORECASE)
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    while position < len(text):
        if stop():
            raise Cancelled("a newer search was started")
        edge = min(len(text), position + slice_chars)
        last = position
        for match in pattern.finditer(text, position, min(len(text), edge + len(query) - 1)):
            if match.start() >= edge:
                break
            starts.append(match.start())
            ends.append(match.end())
            last = match.end()
        position = max(edge, last)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


def find_all(
    text: str,
    query: str,
    positions: QtPositions,
    stop: Callable[[], bool] = lambda: False,
    slice_chars: int = SLICE_CHARS,
) -> tuple[np.ndarray, np.ndarray]:
    """Qt start and end positions of every match of ``query`` in ``text`` (any case), a slice at a time."""
    starts, ends = find_offsets(text, query, stop, slice_chars)
    return positions.to_qt_array(starts), positions.to_qt_array(ends)


class FindHost(Protocol):
    """The text view a finder searches, as the finder sees it."""

    text: str
    positions: QtPositions
    ready: bool
    find_changed: SignalInstance

    def start_task(self, task: Task) -> None: ...

    def apply_selections(self) -> None: ...

    def visible_range(self) -> tuple[int, int]: ...

    def qt_cursor(self, start: int, end: int) -> QTextCursor: ...

    def palette(self) -> QPalette: ...

    def document(self) -> QTextDocument: ...

    def textCursor(self) -> QTextCursor: ...

    def setTextCursor(self, cursor: QTextCursor) -> None: ...

    def centerCursor(self) -> None: ...


class TextFinder:
    """The matches of one query in a text view, and the highlights of those near the screen."""

    def __init__(self, view: FindHost) -> None:
        self.view = view
        self.at_once_chars = FIND_AT_ONCE_CHARS
        self.query = ""
        self.pending = False  # a search runs on the pool
        self.error = ""
        self.index = -1
        self.selections: list[QTextEdit.ExtraSelection] = []
        self._generation = 0
        self._starts = np.zeros(0, dtype=np.int64)  # Qt positions
        self._ends = np.zeros(0, dtype=np.int64)
        self._shown: tuple[int, int] = (0, 0)  # the Qt positions whose matches are highlighted

    @property
    def count(self) -> int:
        return len(self._starts)

    @property
    def matches(self) -> list[tuple[int, int]]:
        """Every match as Qt (start, end) positions."""
        return list(zip(self._starts.tolist(), self._ends.tolist(), strict=True))

    def forget(self) -> None:
        """A new text: no query, no matches, and a search still running is ignored."""
        self._generation += 1
        self.query, self.pending, self.error = "", False, ""
        self._set_matches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def search(self, query: str) -> int:
        """Find every match of ``query``; their number, or -1 while a long text (or one not shown yet)
        is searched on the pool (the view's ``find_changed`` says when they are in)."""
        view = self.view
        self._generation += 1
        self.query, self.error = query, ""
        self.pending = False
        self._set_matches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if query and (not view.ready or len(view.text) > self.at_once_chars):
            self.pending = True
            if view.ready:
                self._search_in_pool(query)
            return -1
        if query:
            self._set_matches(*find_all(view.text, query, view.positions))
        return self.count

    def _search_in_pool(self, query: str) -> None:
        generation, text, positions = self._generation, self.view.text, self.view.positions
        task = CallTask(generation, lambda stop: find_all(text, query, positions, stop), stoppable=True)
        task.signals.finished.connect(self._found)
        task.signals.failed.connect(self._failed)
        self.view.start_task(task)

    def _found(self, generation: int, matches: tuple[np.ndarray, np.ndarray]) -> None:
        if generation != self._generation:
            return
        self.pending = False
        self._set_matches(*matches)
        self.view.apply_selections()
        self.view.find_changed.emit()

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.pending, self.error = False, message
            self.view.find_changed.emit()

    def _set_matches(self, starts: np.ndarray, ends: np.ndarray) -> None:
        self._starts, self._ends = starts, ends
        self.index = -1
        self._shown = (0, 0)
        self.selections = []
        if len(starts):
            self._highlight_near(self.view.visible_range())

    def _highlight_near(self, visible: tuple[int, int]) -> None:
        """Highlight the matches around what is on screen, at most ``MAX_FIND_HIGHLIGHTS``."""
        low = int(np.searchsorted(self._starts, visible[0]))
        high = int(np.searchsorted(self._starts, visible[1]))
        spare = max(0, MAX_FIND_HIGHLIGHTS - (high - low))
        first = max(0, low - spare // 2)
        last = min(len(self._starts), max(high, first + MAX_FIND_HIGHLIGHTS))
        first = max(0, min(first, last - MAX_FIND_HIGHLIGHTS))
        fmt = QTextCharFormat()
        fmt.setBackground(find_color(self.view.palette()))
        selections = []
        starts, ends = self._starts[first:last].tolist(), self._ends[first:last].tolist()
        for start, end in zip(starts, ends, strict=True):
            selection = QTextEdit.ExtraSelection()
            selection.cursor, selection.format = self.view.qt_cursor(start, end), fmt
            selections.append(selection)
        self.selections = selections
        covered_from = 0 if first == 0 else int(self._starts[first])
        every = last == len(self._starts)
        covered_to = self.view.document().characterCount() if every else int(self._starts[last - 1])
        self._shown = (covered_from, covered_to)

    def follow(self) -> bool:
        """After a scroll, highlight the matches now on screen if they were not; whether it did."""
        if len(self._starts) <= MAX_FIND_HIGHLIGHTS or not self.view.ready:
            return False
        start, end = self.view.visible_range()
        if start < self._shown[0] or end > self._shown[1]:
            self._highlight_near((start, end))
            return True
        return False

    def step(self, delta: int) -> int:
        """Go to the next (or previous) match after the cursor; its index, or -1 without matches."""
        count = len(self._starts)
        if not count:
            return -1
        view = self.view
        if self.index < 0:
            cursor = view.textCursor()
            if delta > 0:
                index = int(np.searchsorted(self._starts, cursor.selectionStart(), "left"))
            else:
                index = int(np.searchsorted(self._starts, cursor.selectionEnd() - 1, "right")) - 1
        else:
            index = self.index + delta
        self.index = index % count
        start, end = int(self._starts[self.index]), int(self._ends[self.index])
        view.setTextCursor(view.qt_cursor(start, end))
        view.centerCursor()
        if self.follow():
            view.apply_selections()
        return self.index
