"""A document's two views behind one ``DocumentDisplay``: its pages (for a PDF) and its text.

A bar above says which one shows (Page / Text, the reader's choice remembered), and for pages
where the reader is ("6 (9 of 38)", typed into to go to a page) and the PDF's outline beside
them. The window, the find bar and the read map talk to this widget only: answers and the chosen
answer go to both views, so switching keeps them; find and the map follow the one shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.decoding import Answer
from ..core.documents import Document
from ..core.documents.formats import PAGED_DOCUMENTS, is_paged
from ..core.documents.pages import OutlineEntry
from .page_view import PageView
from .text_view import TextView

FORWARDED = ("reader_moved", "view_changed", "display_ready", "find_changed")
MIN_OUTLINE_HEADINGS = 2  # a document with one heading (a title) has no outline worth a panel
MAX_OUTLINE_ITEMS = 5000


def page_box_text(labels: list[str], page: int) -> str:
    """ "6 (9 of 38)" where the printed label differs from the physical number, else "9 of 38"."""
    label, count = labels[page], len(labels)
    return f"{page + 1} of {count}" if label == str(page + 1) else f"{label} ({page + 1} of {count})"


def page_from_entry(entry: str, labels: list[str]) -> int | None:
    """The page a reader typed: a printed label ("vi", "6") first, else a physical number."""
    entry = entry.strip().split(" (")[0].strip()
    folded = [label.casefold() for label in labels]
    if entry.casefold() in folded:
        return folded.index(entry.casefold())
    if entry.isdigit() and 1 <= int(entry) <= len(labels):
        return int(entry) - 1
    return None


class DocumentViews(QWidget):
    reader_moved = Signal()
    view_changed = Signal()
    display_ready = Signal()
    display_failed = Signal(str)
    find_changed = Signal()
    mode_changed = Signal(bool)  # pages shown (True) or text

    def __init__(
        self,
        pool: QThreadPool | None = None,
        shows_pages: bool = True,
        password_for: Callable[[str], str | None] = lambda _: None,
    ) -> None:
        super().__init__()
        self.text_view = TextView(pool=pool)
        self.page_view = PageView(pool=pool, password_for=password_for)
        self.prefers_pages = shows_pages
        self.document: Document | None = None
        self.previewing = False  # a file's pages are shown while its text is read
        self._find_query = ""
        self._chosen: Answer | None = None
        for name in FORWARDED:
            for view in (self.text_view, self.page_view):
                getattr(view, name).connect(lambda view=view, name=name: self._forward(view, name))
        self.text_view.display_failed.connect(self.display_failed)
        self.page_view.display_failed.connect(self._pages_failed)
        self.page_view.page_changed.connect(self._page_changed)
        self.page_view.outline_ready.connect(self._fill_outline)
        self._bookmarks: list[OutlineEntry] = []
        self._build()
        self.active: TextView | PageView = self.text_view

    def _build(self) -> None:
        self.page_button = QToolButton(text="Page", checkable=True, toolTip="Show the pages (Ctrl+Shift+P)")
        self.text_button = QToolButton(text="Text", checkable=True, toolTip="Show the text the model reads")
        group = QButtonGroup(self, exclusive=True)
        for button in (self.page_button, self.text_button):
            group.addButton(button)
            button.setAutoRaise(True)
        self.page_button.clicked.connect(lambda: self.set_pages(True))
        self.text_button.clicked.connect(lambda: self.set_pages(False))
        self.page_box = QLineEdit(toolTip="Go to a page: its printed label or its number (Ctrl+J)")
        self.page_box.setMaximumWidth(150)
        self.page_box.returnPressed.connect(self._go_to_typed_page)
        self.outline_button = QToolButton(
            text="Outline", checkable=True, toolTip="The document's headings, or a PDF's bookmarks (Ctrl+Shift+O)"
        )
        self.outline_button.setAutoRaise(True)
        self.outline_button.toggled.connect(self._outline_toggled)
        self.note = QLabel()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for widget in (self.page_button, self.text_button, self.outline_button, self.page_box):
            bar.addWidget(widget)
        bar.addWidget(self.note, 1)
        self.bar = QWidget()
        self.bar.setLayout(bar)
        self.outline = QTreeWidget()
        self.outline.setHeaderHidden(True)
        self.outline.itemActivated.connect(self._outline_chosen)
        self.outline.itemClicked.connect(self._outline_chosen)
        self.outline.hide()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.text_view)
        self.stack.addWidget(self.page_view)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.outline)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 800])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self.splitter, 1)
        self._show_bar(False)

    def _forward(self, view: QWidget, name: str) -> None:
        if view is self.active:
            getattr(self, name).emit()

    # -- which view -----------------------------------------------------------------------------

    @property
    def can_show_pages(self) -> bool:
        document = self.document
        return document is not None and document.origin is not None and document.format in PAGED_DOCUMENTS

    @property
    def shows_pages(self) -> bool:
        return self.active is self.page_view

    def set_pages(self, pages: bool, remember: bool = True) -> None:
        """Show the pages (if the document has them) or the text; the choice is the reader's."""
        if remember:
            self.prefers_pages = pages
            self.mode_changed.emit(pages)
        self._activate(self.page_view if pages and self.can_show_pages else self.text_view)

    def toggle_pages(self) -> None:
        if self.can_show_pages:
            self.set_pages(not self.shows_pages)

    def _activate(self, view: TextView | PageView) -> None:
        previous = self.active
        self.active = view
        self.stack.setCurrentWidget(view)
        self.page_button.setChecked(view is self.page_view)
        self.text_button.setChecked(view is self.text_view)
        self.page_box.setVisible(view is self.page_view)
        self.outline_button.setVisible(self._has_outline())
        self._outline_toggled(self.outline_button.isChecked())
        if previous is not view:
            if self._find_query:
                view.set_find(self._find_query)
            if self._chosen is not None:
                view.select_answer(self._chosen, True)
            elif previous.ready and view.ready:
                view.scroll_to_fraction(sum(previous.visible_fraction()) / 2)
            self.find_changed.emit()
            self.view_changed.emit()

    def _show_bar(self, paged: bool, outlined: bool = False) -> None:
        """The bar for pages (Page / Text, the page box) and the outline: shown when there is either."""
        for widget in (self.page_button, self.text_button):
            widget.setVisible(paged)
        self.bar.setVisible(paged or outlined)

    def toggle_outline(self) -> None:
        """View > Outline (Ctrl+Shift+O)."""
        if self.outline_button.isVisible():
            self.outline_button.toggle()

    def _pages_failed(self, message: str) -> None:
        self.note.setText(message)
        self.page_button.setEnabled(False)
        self._activate(self.text_view)

    # -- pages ------------------------------------------------------------------------------------

    def _page_changed(self, page: int) -> None:
        page_set = self.page_view.page_set
        if page_set is not None and 0 <= page < len(page_set.labels) and not self.page_box.hasFocus():
            self.page_box.setText(page_box_text(page_set.labels, page))

    def _go_to_typed_page(self) -> None:
        page_set = self.page_view.page_set
        if page_set is None:
            return
        page = page_from_entry(self.page_box.text(), page_set.labels)
        if page is None:
            self.note.setText(f"No page {self.page_box.text().strip()!r} in this PDF.")
            return
        self.note.clear()
        self.page_view.go_to_page(page)
        self.page_view.setFocus()
        self.page_box.setText(page_box_text(page_set.labels, page))

    def focus_page_box(self) -> None:
        if self.shows_pages:
            self.page_box.setFocus()
            self.page_box.selectAll()

    def _fill_outline(self, entries: list[OutlineEntry]) -> None:
        self._bookmarks = entries
        self._activate(self.active)

    def _has_outline(self) -> bool:
        if self.active is self.page_view and self._bookmarks:
            return True
        return self.document is not None and self.document.has_headings(MIN_OUTLINE_HEADINGS)

    def _outline_toggled(self, shown: bool) -> None:
        """The outline is filled only while it is shown: a book's thousands of headings cost nothing
        until the reader asks for them."""
        shown = shown and self.outline_button.isVisible()
        if shown:
            self._refill_outline()
        else:
            self.outline.clear()
        self.outline.setVisible(shown)

    def _refill_outline(self) -> None:
        """The outline of what is shown: a PDF's bookmarks on its pages, else the document's headings
        (any format), each taking the reader to its place."""
        self.outline.clear()
        if self.active is self.page_view and self._bookmarks:
            parents: list[QTreeWidgetItem] = []
            for entry in self._bookmarks:
                del parents[entry.level :]
                item = QTreeWidgetItem([entry.title])
                item.setData(0, Qt.ItemDataRole.UserRole, ("page", entry.page))
                (parents[-1].addChild(item) if parents else self.outline.addTopLevelItem(item))
                parents.append(item)
            self.outline.expandToDepth(0)
            return
        headings = self.document.headings if self.document is not None else ()
        items = []
        for section in headings[:MAX_OUTLINE_ITEMS]:
            item = QTreeWidgetItem([section.label])
            item.setToolTip(0, section.label)
            item.setData(0, Qt.ItemDataRole.UserRole, ("offset", section.start))
            items.append(item)
        self.outline.addTopLevelItems(items)

    def _outline_chosen(self, item: QTreeWidgetItem) -> None:
        kind, where = item.data(0, Qt.ItemDataRole.UserRole) or (None, None)
        if kind == "page" and where is not None:
            self.page_view.go_to_page(int(where))
        elif kind == "offset":
            self.active.show_at_top(int(where))
            self.reader_moved.emit()  # the reader went there: the view is theirs

    # -- DocumentDisplay ----------------------------------------------------------------------

    def preview(self, path: Path) -> bool:
        """Show a paged file's pages while its text is still read; whether it does (the reader
        prefers pages and the file has them)."""
        if not (self.prefers_pages and is_paged(path.name)):
            return False
        self._reset_bar()
        self.previewing = True
        self.page_view.open_file(str(path))
        self._show_bar(True)
        self.text_button.setEnabled(False)  # the text is not read yet
        self._activate(self.page_view)
        return True

    def end_preview(self) -> None:
        """The file did not open: back to the document shown before, if any."""
        self.previewing = False
        self.page_view.origin = None
        if self.document is not None:
            self.show_document(self.document)
        else:
            self._show_bar(False)
            self._activate(self.text_view)

    def _reset_bar(self) -> None:
        self.note.clear()
        self._bookmarks = []
        self.outline.clear()
        self.page_box.clear()
        self.page_button.setEnabled(True)
        self.text_button.setEnabled(True)

    def show_document(self, document: Document) -> None:
        self.previewing = False
        self.document = document
        self._chosen, self._find_query = None, ""
        keeps_outline = self.page_view.origin == document.origin and self.page_view.document is None
        if keeps_outline:
            self.note.clear()
            self.page_button.setEnabled(True)
            self.text_button.setEnabled(True)
        else:
            self._reset_bar()
        self.text_view.show_document(document)
        paged = self.can_show_pages
        if paged:
            self.page_view.show_document(document)
        self._show_bar(paged, document.has_headings(MIN_OUTLINE_HEADINGS))
        self._activate(self.page_view if paged and self.prefers_pages else self.text_view)

    def highlight(self, answers: list[Answer], guesses: bool = False) -> None:
        self.text_view.highlight(answers, guesses)
        self.page_view.highlight(answers, guesses)

    def select_answer(self, answer: Answer | None, reveal: bool) -> None:
        self._chosen = answer
        self.active.select_answer(answer, reveal)
        other = self.page_view if self.active is self.text_view else self.text_view
        other.select_answer(answer, False)

    # Zoom here is the text's size; pages have their own (``page_view.set_zoom``): a reader who
    # enlarges the text does not want pages wider than the window.
    @property
    def zoom(self) -> int:
        return self.text_view.zoom

    def set_zoom(self, steps: int) -> int:
        return self.text_view.set_zoom(steps)

    def shutdown(self) -> None:
        self.text_view.shutdown()
        self.page_view.shutdown()

    @property
    def ready(self) -> bool:
        return self.active.ready

    @property
    def find_count(self) -> int:
        return self.active.find_count

    @property
    def find_pending(self) -> bool:
        return self.active.find_pending

    @property
    def find_error(self) -> str:
        return self.active.find_error

    def set_find(self, query: str) -> int:
        self._find_query = query
        return self.active.set_find(query)

    def find_step(self, delta: int) -> int:
        return self.active.find_step(delta)

    def clear_find(self) -> None:
        self._find_query = ""
        self.text_view.clear_find()
        self.page_view.clear_find()

    def selected_text(self) -> str:
        return self.active.selected_text()

    def setFocus(self) -> None:
        self.active.setFocus()

    def fraction_of(self, offset: int) -> float:
        return self.active.fraction_of(offset)

    def rows_of(self, offsets: np.ndarray, rows: int) -> np.ndarray:
        return self.active.rows_of(offsets, rows)

    def visible_fraction(self) -> tuple[float, float]:
        return self.active.visible_fraction()

    def scroll_to_fraction(self, fraction: float) -> None:
        self.active.scroll_to_fraction(fraction)

    def top_offset(self) -> int:
        """Where the reader is: the character at the top of the text, or the page they are on."""
        return self.active.top_offset()

    def show_at_top(self, offset: int) -> None:
        self.active.show_at_top(offset)
