"""The text view: the document as the engine read it, answer spans highlighted, page and chapter
markers in a gutter, and find, with the geometry the read map draws from.

A long document is never laid out while the window waits: its Qt document is built on the thread
pool (``qt_text``) while the view says "Opening …", then swapped in. Answers, the selection and a
search that arrive before it is shown are kept and applied when it is; a newer document wins over
one still being built. Find searches a long text on the pool too (``text_find``), and page markers
are looked up for the lines on screen only, so nothing the view does on a 50 MB text takes more
than a few tens of milliseconds at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QWheelEvent,
)
from PySide6.QtWidgets import QLabel, QPlainTextDocumentLayout, QPlainTextEdit, QTextEdit, QWidget

from ..core.decoding import Answer
from ..core.documents import Document, Section
from ..core.evidence import percent
from .colors import PALETTE_EVENTS, highlight_color, is_dark, muted
from .qt_text import Display, QtPositions, build_display, dispose
from .tasks import OUT_OF_MEMORY, CallTask, Task
from .text_find import TextFinder

ZOOM_RANGE = (-6, 16)  # points below and above the default size
# Texts up to this many characters are shown at once: a few milliseconds of work. Longer ones are
# prepared on the thread pool.
SHOW_AT_ONCE_CHARS = 256 * 1024
MAX_LABEL_LINES = 3  # a margin label wraps onto this many lines at most


class MarkerGutter(QWidget):
    """Page, chapter and heading labels beside the line where each begins."""

    def __init__(self, view: TextView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self) -> QSize:
        return QSize(self.view.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.view.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        painter.setPen(muted(palette))
        font = QFont(self.view.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.78))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        markers = self.view.visible_markers()
        for index, (top, label) in enumerate(markers):
            # Wrapped onto as many lines as fit before the next label (three at most), not cut.
            room = (markers[index + 1][0] if index + 1 < len(markers) else top + 10**6) - top - 2
            lines = wrapped(label, metrics, self.width() - 10, max(1, min(MAX_LABEL_LINES, room // metrics.height())))
            for n, line in enumerate(lines):
                rect = QRect(4, top + 2 + n * metrics.height(), self.width() - 8, metrics.height())
                painter.drawText(rect, Qt.AlignmentFlag.AlignRight, line)


def wrapped(label: str, metrics: QFontMetrics, width: int, max_lines: int) -> list[str]:
    """``label`` in lines of at most ``width`` pixels, broken between words, at most ``max_lines``;
    only what does not fit on the last line is cut (with an ellipsis)."""
    lines: list[str] = []
    words = label.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        if len(lines) == max_lines - 1 and words:
            line = " ".join([line, *words])
            words = []
        fits = metrics.horizontalAdvance(line) <= width
        lines.append(line if fits else metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))
    return lines


class TextView(QPlainTextEdit):
    """The document as the engine read it: read-only text with answer highlights, page and chapter
    markers in a gutter, and find; drops go to the window, which opens the file. It is the view of
    every format today, behind the ``DocumentDisplay`` interface the window uses."""

    reader_moved = Signal()  # the reader scrolled, clicked or moved the cursor: the view is theirs
    view_changed = Signal()  # what is visible changed (for the read map)
    display_ready = Signal()  # the text given to show_text is on screen, with everything asked of it since
    display_failed = Signal(str)  # the text could not be shown (the computer ran out of memory): why
    find_changed = Signal()  # a search's matches arrived (or the search failed)

    def __init__(self, parent: QWidget | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._dark = is_dark(self.palette())  # the palette the highlights were coloured for
        self.setReadOnly(True)
        self.setAcceptDrops(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        # A scroll bar that came and went would change the width, and a new width lays out every
        # line again (a 50 MB book has hundreds of thousands).
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setAccessibleName("Document")
        self.base_point_size = max(self.font().pointSizeF(), 10.0) * 1.15
        self.zoom = 0
        self.set_zoom(0)
        self.document().setDocumentMargin(18)
        self.show_at_once_chars = SHOW_AT_ONCE_CHARS
        self.positions = QtPositions("")
        self.text = ""
        self.ready = True  # the text given to show_text is shown (False while it is prepared)
        self._generation = 0
        self._display: Display | None = None
        self._tasks: set[Task] = set()
        self._answers: list[Answer] = []
        self._guesses = False
        self._answer_selections: list[QTextEdit.ExtraSelection] = []
        self._pending_span: tuple[int, int, bool] | None = None  # a selection asked for before the text was shown
        self.finder = TextFinder(self)
        self._marker_positions = np.zeros(0, dtype=np.int64)
        self._marker_labels: list[str] = []
        self.gutter = MarkerGutter(self)
        self.gutter.setVisible(False)
        self.notice = QLabel(self.viewport())  # "Opening …" while a long text is prepared
        self.notice.setObjectName("documentNotice")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.updateRequest.connect(self._update_gutter)
        self.verticalScrollBar().actionTriggered.connect(lambda _: self.reader_moved.emit())
        self.verticalScrollBar().valueChanged.connect(lambda _: self.view_changed.emit())
        self.verticalScrollBar().valueChanged.connect(lambda _: self._follow_find())

    # -- the document -------------------------------------------------------------------------

    def show_document(self, document: Document) -> None:
        self.show_text(document.text, document.sections, document.name, document.code_spans)

    # -- text, zoom, markers ------------------------------------------------------------------

    def show_text(
        self,
        text: str,
        sections: tuple[Section, ...] = (),
        name: str = "the document",
        code_spans: tuple[tuple[int, int], ...] = (),
    ) -> None:
        """Show ``text``: at once if it is short, else built on the pool while the view says so."""
        self._generation += 1
        self._stop_tasks()
        self.text = text
        self._answers, self._guesses = [], False
        self._answer_selections = []
        self._pending_span = None
        self.finder.forget()
        font, option, margin = QFont(self.font()), self.document().defaultTextOption(), 18.0
        generation = self._generation
        if len(text) <= self.show_at_once_chars:
            try:
                display = build_display(generation, text, sections, font, option, margin, code_spans=code_spans)
            except MemoryError:
                self.ready = False
                self._swap(None)
                self._display_not_built(generation, OUT_OF_MEMORY)
                return
            self._install(display)
            return
        self.ready = False
        self._swap(None)
        self._show_notice(f"Opening {name}…")
        task = CallTask(
            generation,
            lambda stop: build_display(generation, text, sections, font, option, margin, stop, code_spans),
            stoppable=True,
        )
        task.signals.finished.connect(self._display_built)
        task.signals.failed.connect(self._display_not_built)
        self.start_task(task)

    def _display_built(self, generation: int, display: Display) -> None:
        if generation != self._generation or self.ready:
            dispose(display.document, self.pool)  # a newer text won
            return
        self._install(display)

    def _display_not_built(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._show_notice(f"This document cannot be shown. {message}")
        self.display_failed.emit(message)

    def _install(self, display: Display) -> None:
        """Put a built text on screen and apply what was asked of it while it was built."""
        self.ready = True
        self._show_notice("")
        if display.document.defaultFont() != self.font():
            display.document.setDefaultFont(self.font())  # zoomed while it was built
        # The margin first, so the text is laid out once, at its final width (on an empty page, not
        # on the long text still shown).
        if bool(display.marker_labels) != bool(self._marker_labels) and self._display is not None:
            self._swap(None)
        self._marker_positions, self._marker_labels = display.marker_positions, display.marker_labels
        self.gutter.setVisible(bool(self._marker_labels))
        self._layout_gutter()
        self._swap(display)
        self.positions = display.positions
        if self._answers:
            self.highlight(self._answers, self._guesses)
        if self._pending_span is not None:
            start, end, reveal = self._pending_span
            self._pending_span = None
            self.select_span(start, end, reveal)
        if self.finder.query:
            self.set_find(self.finder.query)
        self.display_ready.emit()
        self.view_changed.emit()

    def _swap(self, display: Display | None) -> None:
        """Show ``display``'s document (None: an empty one) and free the one shown before."""
        old = self._display
        self.setExtraSelections([])  # their cursors belong to the old document
        if display is None:
            blank = QTextDocument(self)
            blank.setDocumentLayout(QPlainTextDocumentLayout(blank))
            blank.setDefaultFont(self.font())
            blank.setDocumentMargin(18)
            self.setDocument(blank)
            self._display = None
            self.positions = QtPositions("")
        else:
            self.setDocument(display.document)
            self._display = display
        if old is not None:
            dispose(old.document, self.pool)

    def _show_notice(self, message: str) -> None:
        self.notice.setText(message)
        self.notice.setVisible(bool(message))
        self._place_notice()

    def _place_notice(self) -> None:
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        self.notice.setGeometry(rect)

    def start_task(self, task: Task) -> None:
        """Run a task of this view's (building a text, searching it) on the pool; stopped with the view."""
        self._tasks.add(task)
        for ended in (task.signals.finished, task.signals.failed, task.signals.cancelled):
            ended.connect(lambda *_, task=task: self._tasks.discard(task))
        self.pool.start(task, 2)  # before the model's work: the reader is looking at this

    def _stop_tasks(self) -> None:
        for task in self._tasks:
            task.stop_requested.set()

    def shutdown(self) -> None:
        """The window is closing: stop building and searching, and let no late result arrive."""
        for task in self._tasks:
            task.stop_requested.set()
            task.signals.blockSignals(True)

    @property
    def markers(self) -> dict[int, str]:
        """Block number -> label of every marker (the view itself only looks up the ones on screen)."""
        document = self.document()
        result: dict[int, str] = {}
        for position, label in zip(self._marker_positions.tolist(), self._marker_labels, strict=True):
            result.setdefault(document.findBlock(position).blockNumber(), label)
        return result

    def gutter_width(self) -> int:
        return 12 * self.fontMetrics().horizontalAdvance("0") if self._marker_labels else 0

    def _marker_in(self, start: int, end: int) -> str | None:
        """The first marker label between Qt positions ``start`` (included) and ``end`` (excluded)."""
        index = int(np.searchsorted(self._marker_positions, start))
        if index < len(self._marker_labels) and self._marker_positions[index] < end:
            return self._marker_labels[index]
        return None

    def visible_markers(self) -> list[tuple[int, str]]:
        """(top in the gutter, label) of each marker on screen."""
        result: list[tuple[int, str]] = []
        if not self._marker_labels:
            return result
        block = self.firstVisibleBlock()
        offset = self.contentOffset()
        height = self.viewport().height()
        while block.isValid():
            top = round(self.blockBoundingGeometry(block).translated(offset).top())
            if top > height:
                break
            label = self._marker_in(block.position(), block.position() + block.length())
            if label is not None and block.isVisible():
                result.append((top, label))
            block = block.next()
        return result

    def _layout_gutter(self) -> None:
        width = self.gutter_width()
        self.setViewportMargins(width, 0, 0, 0)
        rect = self.contentsRect()
        self.gutter.setGeometry(QRect(rect.left(), rect.top(), width, rect.height()))

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if self.gutter.isVisible():
            if dy:
                self.gutter.scroll(0, dy)
            else:
                self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._layout_gutter()
        self._place_notice()
        self.view_changed.emit()

    def set_zoom(self, steps: int) -> int:
        """Text size ``steps`` points above the default (below if negative), within ``ZOOM_RANGE``."""
        self.zoom = max(ZOOM_RANGE[0], min(ZOOM_RANGE[1], steps))
        font = QFont(self.font())
        font.setPointSizeF(self.base_point_size + self.zoom)
        self.setFont(font)
        if hasattr(self, "gutter"):
            self._layout_gutter()
        return self.zoom

    # -- answers ------------------------------------------------------------------------------

    def highlight(self, answers: list[Answer], guesses: bool = False) -> None:
        """Highlight every answer span, the strongest colour for the most confident; guesses (the
        document seems not to answer) only get a dotted underline, so they never look like answers.
        Before the text is shown they are kept, and highlighted when it is."""
        self._answers = list(answers)
        self._guesses = guesses
        if not self.ready:
            return
        selections = []
        for answer in sorted(answers, key=lambda a: a.score):
            selection = QTextEdit.ExtraSelection()
            selection.cursor = self._cursor_for(answer.start, answer.end)
            fmt = QTextCharFormat()
            if guesses:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
                fmt.setUnderlineColor(muted(self.palette()))
                fmt.setToolTip("A guess: the document does not seem to answer the question")
            else:
                fmt.setBackground(highlight_color(self.palette(), answer.score))
                fmt.setToolTip(f"{percent(answer.score)} confidence")
            selection.format = fmt
            selections.append(selection)
        self._answer_selections = selections
        self.apply_selections()

    def highlighted_ranges(self) -> list[tuple[int, int]]:
        """The highlighted answer spans as character offsets of the original text."""
        return [
            (self.positions.from_qt(s.cursor.selectionStart()), self.positions.from_qt(s.cursor.selectionEnd()))
            for s in self._answer_selections
        ]

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # View > Theme: the highlights' colours follow a switch between light and dark (only then:
        # Qt sends palette events for smaller reasons too, and a book's highlights take a while).
        dark = is_dark(self.palette())
        if event.type() in PALETTE_EVENTS and dark != self._dark:
            self._dark = dark
            if self._answers and self.ready:
                self.highlight(self._answers, self._guesses)

    def select_answer(self, answer: Answer | None, reveal: bool) -> None:
        """Put the document's selection on ``answer`` (none: clear it); scroll to it only if ``reveal``."""
        if answer is None:
            self._pending_span = None
            cursor = self.textCursor()
            if cursor.hasSelection():
                cursor.clearSelection()
                self._keep_view(lambda: self.setTextCursor(cursor))
            return
        self.select_span(answer.start, answer.end, reveal)

    def reveal(self, answer: Answer) -> None:
        """Scroll to the answer and select it."""
        self.select_span(answer.start, answer.end, True)

    def select_span(self, start: int, end: int, reveal: bool) -> None:
        if not self.ready:
            pending = self._pending_span
            self._pending_span = (start, end, reveal or (pending is not None and pending[2]))
            return
        cursor = self._cursor_for(start, end)
        if reveal:
            self.setTextCursor(cursor)
            self.centerCursor()
        else:
            self._keep_view(lambda: self.setTextCursor(cursor))

    def _keep_view(self, change) -> None:
        """Make ``change`` without the view moving (setTextCursor scrolls to the cursor)."""
        vertical, horizontal = self.verticalScrollBar(), self.horizontalScrollBar()
        top, left = vertical.value(), horizontal.value()
        change()
        vertical.setValue(top)
        horizontal.setValue(left)

    def _cursor_for(self, start: int, end: int) -> QTextCursor:
        return self.qt_cursor(self.positions.to_qt(start), self.positions.to_qt(end))

    def qt_cursor(self, start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def apply_selections(self) -> None:
        self.setExtraSelections(self.finder.selections + self._answer_selections)

    # -- find ---------------------------------------------------------------------------------

    @property
    def find_matches(self) -> list[tuple[int, int]]:
        """Every match as Qt (start, end) positions."""
        return self.finder.matches

    @property
    def find_count(self) -> int:
        return self.finder.count

    @property
    def find_pending(self) -> bool:
        return self.finder.pending

    @property
    def find_error(self) -> str:
        return self.finder.error

    def set_find(self, query: str) -> int:
        """Highlight every match of ``query`` (any case); the number of matches, or -1 while a long
        text is searched on the pool (``find_changed`` says when the matches are in)."""
        found = self.finder.search(query)
        self.apply_selections()
        return found

    def find_step(self, delta: int) -> int:
        """Go to the next (or previous) match after the cursor; its index, or -1 without matches."""
        return self.finder.step(delta)

    def clear_find(self) -> None:
        self.set_find("")

    def selected_text(self) -> str:
        """The text the reader selected, as one line ("" if it spans paragraphs or none is selected)."""
        selected = self.textCursor().selectedText()
        return "" if "\u2029" in selected else selected

    def visible_range(self) -> tuple[int, int]:
        """Qt positions from the first to past the last block on screen."""
        first = self.firstVisibleBlock()
        if not first.isValid():
            return 0, 0
        bottom = self.cursorForPosition(self.viewport().rect().bottomRight()).position()
        return first.position(), max(first.position() + first.length(), bottom + 1)

    def _follow_find(self) -> None:
        if self.finder.follow():
            self.apply_selections()

    # -- what the reader does here --------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not event.modifiers() & Qt.KeyboardModifier.ControlModifier or event.key() in (
            Qt.Key.Key_Home,
            Qt.Key.Key_End,
        ):
            self.reader_moved.emit()
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.reader_moved.emit()
        super().mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.reader_moved.emit()
        super().wheelEvent(event)

    # -- geometry for the read map ---------------------------------------------------------------

    def fraction_of(self, offset: int) -> float:
        """Where character ``offset`` sits in the document, 0 (top) to 1 (bottom), by visual line."""
        document = self.document()
        lines = max(1, document.lineCount())
        block = document.findBlock(self.positions.to_qt(offset))
        return block.firstLineNumber() / lines if block.isValid() else 0.0

    def rows_of(self, offsets: np.ndarray, rows: int) -> np.ndarray:
        """The row (0 to ``rows``) where each character offset sits on a strip ``rows`` pixels high,
        by visual line as :meth:`fraction_of`; ``rows + 1`` lookups whatever the number of offsets."""
        document = self.document()
        lines = max(1, document.lineCount())
        rows = max(1, rows)
        starts = np.empty(rows + 1, dtype=np.int64)
        for row in range(rows + 1):
            starts[row] = document.findBlockByLineNumber(min(lines - 1, row * lines // rows)).position()
        qt = self.positions.to_qt_array(offsets)
        return np.clip(np.searchsorted(starts, qt, "right") - 1, 0, rows)

    def visible_fraction(self) -> tuple[float, float]:
        bar = self.verticalScrollBar()
        total = bar.maximum() + bar.pageStep()
        if total <= 0:
            return 0.0, 1.0
        return bar.value() / total, (bar.value() + bar.pageStep()) / total

    def top_offset(self) -> int:
        """The character of the text at the top of the view."""
        return self.positions.from_qt(self.cursorForPosition(QPoint(0, 0)).position()) if self.ready else 0

    def show_at_top(self, offset: int) -> None:
        """Scroll so that the line holding character ``offset`` is the first on screen."""
        block = self.document().findBlock(self.positions.to_qt(offset))
        line = block.firstLineNumber() if block.isValid() else 0
        if block.isValid() and block.layout() is not None and block.layout().lineCount():
            line += block.layout().lineForTextPosition(self.positions.to_qt(offset) - block.position()).lineNumber()
        self.verticalScrollBar().setValue(max(0, line))

    def scroll_to_fraction(self, fraction: float) -> None:
        bar = self.verticalScrollBar()
        total = bar.maximum() + bar.pageStep()
        bar.setValue(round(fraction * total - bar.pageStep() / 2))
