"""The seam between the window and a document's view: the find bar and the read map work over any
view that implements their interfaces, shown here over a stub view (as qutebrowser tests its
abstract tab), and the text view implements all of ``DocumentDisplay``."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QWidget

from reading_assistant.core.documents import text_document
from reading_assistant.gui.document_display import DocumentDisplay, Mappable, Searchable
from reading_assistant.gui.document_pane import DocumentPane
from reading_assistant.gui.find_bar import FindBar
from reading_assistant.gui.read_map import ReadMap
from reading_assistant.gui.text_view import TextView

TEXT = "one two three two one two"


class StubView(QWidget):
    """A document view reduced to its interfaces: words found by position, lines by offset."""

    find_changed = Signal()
    display_ready = Signal()
    view_changed = Signal()
    reader_moved = Signal()

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.ready = True
        self.matches: list[int] = []
        self.current = -1
        self.scrolled_to: list[float] = []
        self.selection = ""

    # Searchable
    @property
    def find_count(self) -> int:
        return len(self.matches)

    find_pending = False
    find_error = ""

    def set_find(self, query: str) -> int:
        self.matches = [i for i in range(len(self.text)) if query and self.text.startswith(query, i)]
        self.current = -1
        self.find_changed.emit()
        return len(self.matches)

    def find_step(self, delta: int) -> int:
        if not self.matches:
            return -1
        self.current = (self.current + delta) % len(self.matches) if self.current >= 0 else 0
        return self.current

    def clear_find(self) -> None:
        self.set_find("")

    def selected_text(self) -> str:
        return self.selection

    # Mappable
    def fraction_of(self, offset: int) -> float:
        return offset / len(self.text)

    def rows_of(self, offsets: np.ndarray, rows: int) -> np.ndarray:
        return np.asarray(offsets) * rows // len(self.text)

    def visible_fraction(self) -> tuple[float, float]:
        return 0.0, 0.5

    def scroll_to_fraction(self, fraction: float) -> None:
        self.scrolled_to.append(fraction)


def test_the_find_bar_searches_any_searchable_view(qtbot):
    view = StubView(TEXT)
    assert isinstance(view, Searchable)
    bar = FindBar(view)
    qtbot.addWidget(bar)
    view.selection = "two"
    bar.open_bar()  # the selection is the query
    assert bar.field.text() == "two" and bar.count.text() == "3 matches"
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert bar.count.text() == "1 of 3"
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible() and view.matches == []


def test_the_read_map_draws_any_mappable_view(qtbot):
    view = StubView(TEXT)
    assert isinstance(view, Mappable)
    strip = ReadMap(view)
    qtbot.addWidget(strip)
    strip.resize(14, 100)
    strip.set_plan([(0, 5), (20, 26), (8, 13)])
    strip.set_read(2)
    assert strip.read_spans() == [(0, 5), (20, 26)]
    assert strip.read_rows(100) == [(0, 20), (80, 101)]  # offsets 0-5 and 20-26 of 25 characters
    moved = []
    view.reader_moved.connect(lambda: moved.append(True))
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(7, 75))
    assert view.scrolled_to == [0.75] and moved == [True]


def test_the_text_view_is_a_document_view_and_a_pane_wants_one(qtbot):
    view = TextView()  # the pane below takes it
    assert isinstance(view, DocumentDisplay)
    view.show_document(text_document(TEXT, "Pasted text"))
    assert view.ready and view.toPlainText() == TEXT
    with pytest.raises(TypeError, match="not a document view"):
        DocumentPane(QWidget())
    pane = DocumentPane(view)
    qtbot.addWidget(pane)
    assert pane.view is view and pane.read_map.view is view and pane.find_bar.view is view
