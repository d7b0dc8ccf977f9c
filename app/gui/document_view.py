"""The document pane: the text as the engine read it, answer spans highlighted, page and chapter
markers in a gutter, find in the document, and a strip showing which parts a question read.

A long document is never laid out while the window waits. Its Qt document and the map from
character offsets to Qt positions are built on the thread pool, a slice at a time (a Qt call holds
the interpreter, and with it the window, until it returns), then swapped in; meanwhile the view
says "Opening …". Answers, the selection and a search that arrive before it is shown are kept and
applied when it is; a newer document wins over one still being built. Find searches a long text
on the pool too, page markers are looked up for the lines on screen only, and the read map is
drawn a pixel row at a time, so nothing the window does on a 50 MB text takes more than a few
tens of milliseconds at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRect, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextOption,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextDocumentLayout,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.decoding import Answer
from ..core.documents import Section
from ..core.errors import Cancelled
from ..core.evidence import percent
from .read_map import Span, merged
from .tasks import OUT_OF_MEMORY, CallTask, Task
from .words import plural, sentence

log = logging.getLogger(__name__)

# Matches highlighted at once, around what is on screen (each costs a line layout); more follow
# the view as it scrolls.
MAX_FIND_HIGHLIGHTS = 600
ZOOM_RANGE = (-6, 16)  # points below and above the default size
# Texts up to this many characters are shown (and searched) at once: a few milliseconds of work.
# Longer ones are prepared on the thread pool.
SHOW_AT_ONCE_CHARS = 256 * 1024
FIND_AT_ONCE_CHARS = 1024 * 1024
# The slices long texts are handled in: each Qt or regex call on one holds the interpreter a few ms.
SLICE_CHARS = 256 * 1024
DISPOSE_IN_POOL_CHARS = 1024 * 1024


class QtPositions:
    """Maps character offsets of a Python string to positions in a QTextDocument.

    Qt counts UTF-16 code units (an emoji is two) and drops the ``\\r`` of ``\\r\\n``. Built a slice
    at a time (plain ASCII slices without ``\\r`` are skipped at once), so it can be made off the
    GUI thread without holding the interpreter for long.
    """

    def __init__(self, text: str, stop: Callable[[], bool] | None = None, slice_chars: int = SLICE_CHARS) -> None:
        self.text = text
        astral: list[np.ndarray] = []
        dropped: list[np.ndarray] = []
        if not text.isascii() or "\r" in text:
            for start in range(0, len(text), slice_chars):
                if stop is not None and stop():
                    raise Cancelled("a newer document was opened")
                piece = text[start : start + slice_chars + 1]  # one more: a \r\n across the edge
                if piece.isascii() and "\r" not in piece:
                    continue
                code = np.frombuffer(piece.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                body = code[:slice_chars]
                astral.append(np.flatnonzero(body > 0xFFFF) + start)
                dropped.append(np.flatnonzero((code[:-1] == 13) & (code[1:] == 10)) + start)
        self._astral = np.concatenate(astral) if astral else np.zeros(0, dtype=np.int64)
        self._dropped = np.concatenate(dropped) if dropped else np.zeros(0, dtype=np.int64)

    def display_pieces(self, slice_chars: int = SLICE_CHARS) -> Iterator[str]:
        """The text as Qt shows it (line breaks as ``\\n``), in slices that never split a ``\\r\\n``."""
        text = self.text
        if "\r" not in text:
            for start in range(0, len(text), slice_chars):
                yield text[start : start + slice_chars]
            return
        start = 0
        while start < len(text):
            end = min(len(text), start + slice_chars)
            if end < len(text) and text[end - 1] == "\r":
                end += 1
            yield text[start:end].replace("\r\n", "\n").replace("\r", "\n")
            start = end

    @property
    def display_text(self) -> str:
        return "".join(self.display_pieces())

    def to_qt(self, offset: int) -> int:
        return int(offset + np.searchsorted(self._astral, offset) - np.searchsorted(self._dropped, offset))

    def to_qt_array(self, offsets: np.ndarray) -> np.ndarray:
        """:meth:`to_qt` of every offset at once."""
        offsets = np.asarray(offsets, dtype=np.int64)
        return offsets + np.searchsorted(self._astral, offsets) - np.searchsorted(self._dropped, offsets)

    def from_qt(self, position: int) -> int:
        """The inverse of :meth:`to_qt` (by bisection: the map is monotonic)."""
        low, high = 0, position + len(self._dropped)
        while low < high:
            middle = (low + high) // 2
            if self.to_qt(middle) < position:
                low = middle + 1
            else:
                high = middle
        return low


@dataclass
class Display:
    """What the view needs to show one text: its Qt document, positions and section markers."""

    generation: int
    text: str
    positions: QtPositions
    document: QTextDocument
    marker_positions: np.ndarray  # Qt position where each section starts, sorted
    marker_labels: list[str]


def build_display(
    generation: int,
    text: str,
    sections: tuple[Section, ...],
    font: QFont,
    option: QTextOption,
    margin: float,
    stop: Callable[[], bool] = lambda: False,
) -> Display:
    """A text's Qt document and positions, built in the calling thread and then handed to the GUI
    thread; raises ``Cancelled`` as soon as ``stop()`` says a newer text won."""
    positions = QtPositions(text, stop)
    document = QTextDocument()
    document.setUndoRedoEnabled(False)
    document.setDocumentLayout(QPlainTextDocumentLayout(document))
    document.setDefaultFont(font)
    document.setDefaultTextOption(option)
    document.setDocumentMargin(margin)
    cursor = QTextCursor(document)
    for piece in positions.display_pieces():
        if stop():
            raise Cancelled("a newer document was opened")
        cursor.insertText(piece)
    # Each line's layout object is made here rather than when the view takes the document (a
    # million of them are most of the time QPlainTextEdit.setDocument spends).
    block = document.firstBlock()
    count = 0
    while block.isValid():
        block.layout()
        block = block.next()
        count += 1
        if count % 8192 == 0 and stop():
            raise Cancelled("a newer document was opened")
    starts = positions.to_qt_array(np.array([section.start for section in sections], dtype=np.int64))
    labels = [sentence(section.label) for section in sections]
    app = QCoreApplication.instance()
    if app is not None and document.thread() is not app.thread():
        document.moveToThread(app.thread())
    return Display(generation, text, positions, document, starts, labels)


def dispose(document: QTextDocument, pool: QThreadPool | None) -> None:
    """Free a document the view no longer shows; a long one on the pool (it takes tens of ms)."""
    if not shiboken6.isValid(document):
        return
    if pool is None or document.characterCount() < DISPOSE_IN_POOL_CHARS:
        document.deleteLater()
        return
    # An object without a thread may be deleted from any thread once nothing uses it.
    document.moveToThread(None)
    pool.start(CallTask(0, lambda: shiboken6.delete(document)))


def find_all(
    text: str,
    query: str,
    positions: QtPositions,
    stop: Callable[[], bool] = lambda: False,
    slice_chars: int = SLICE_CHARS,
) -> tuple[np.ndarray, np.ndarray]:
    """Qt start and end positions of every match of ``query`` in ``text`` (any case), a slice at a time."""
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
    return positions.to_qt_array(np.array(starts, dtype=np.int64)), positions.to_qt_array(
        np.array(ends, dtype=np.int64)
    )


def highlight_color(palette: QPalette, confidence: float) -> QColor:
    """Amber, stronger for higher confidence, readable on light and dark backgrounds."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    color = QColor(255, 170, 0) if dark else QColor(255, 196, 0)
    color.setAlphaF(0.18 + 0.6 * max(0.0, min(1.0, confidence)))
    return color


def find_color(palette: QPalette) -> QColor:
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    return QColor(64, 160, 120, 150) if dark else QColor(120, 210, 170, 150)


def muted(palette: QPalette) -> QColor:
    """Secondary text that still reads (about 5:1 on the base colour), unlike a disabled grey."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    color = QColor()
    color.setRgbF(*(0.72 * t + 0.28 * b for t, b in zip(text.getRgbF()[:3], base.getRgbF()[:3], strict=True)))
    return color


class MarkerGutter(QWidget):
    """Page, chapter and heading labels beside the line where each begins."""

    def __init__(self, view: DocumentView) -> None:
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
        for top, label in self.view.visible_markers():
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, self.width() - 10)
            painter.drawText(QRect(4, top + 2, self.width() - 8, metrics.height()), Qt.AlignmentFlag.AlignRight, text)


class DocumentView(QPlainTextEdit):
    """Read-only text with highlights; drops go to the window, which opens the file."""

    reader_moved = Signal()  # the reader scrolled, clicked or moved the cursor: the view is theirs
    view_changed = Signal()  # what is visible changed (for the read map)
    display_ready = Signal()  # the text given to show_text is on screen, with everything asked of it since
    display_failed = Signal(str)  # the text could not be shown (the computer ran out of memory): why
    find_changed = Signal()  # a search's matches arrived (or the search failed)

    def __init__(self, parent: QWidget | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
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
        self.find_at_once_chars = FIND_AT_ONCE_CHARS
        self.positions = QtPositions("")
        self.text = ""
        self.ready = True  # the text given to show_text is shown (False while it is prepared)
        self._generation = 0
        self._display: Display | None = None
        self._tasks: set[Task] = set()
        self._answers: list[Answer] = []
        self._guesses = False
        self._answer_selections: list[QTextEdit.ExtraSelection] = []
        self._find_selections: list[QTextEdit.ExtraSelection] = []
        self._pending_span: tuple[int, int, bool] | None = None  # a selection asked for before the text was shown
        self.find_query = ""
        self.find_pending = False  # a search runs on the pool
        self.find_error = ""
        self._find_generation = 0
        self._find_starts = np.zeros(0, dtype=np.int64)  # Qt positions
        self._find_ends = np.zeros(0, dtype=np.int64)
        self._find_shown: tuple[int, int] = (0, 0)  # the Qt positions whose matches are highlighted
        self.find_index = -1
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

    # -- text, zoom, markers ------------------------------------------------------------------

    def show_text(self, text: str, sections: tuple[Section, ...] = (), name: str = "the document") -> None:
        """Show ``text``: at once if it is short, else built on the pool while the view says so."""
        self._generation += 1
        self._stop_tasks()
        self.text = text
        self._answers, self._guesses = [], False
        self._answer_selections, self._find_selections = [], []
        self._pending_span = None
        self.find_query, self.find_pending, self.find_error = "", False, ""
        self._set_matches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        font, option, margin = QFont(self.font()), self.document().defaultTextOption(), 18.0
        generation = self._generation
        if len(text) <= self.show_at_once_chars:
            try:
                display = build_display(generation, text, sections, font, option, margin)
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
            lambda stop: build_display(generation, text, sections, font, option, margin, stop),
            stoppable=True,
        )
        task.signals.finished.connect(self._display_built)
        task.signals.failed.connect(self._display_not_built)
        self._start(task)

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
        if self.find_query:
            self.set_find(self.find_query)
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

    def _start(self, task: Task) -> None:
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
        self._apply_selections()

    def highlighted_ranges(self) -> list[tuple[int, int]]:
        """The highlighted answer spans as character offsets of the original text."""
        return [
            (self.positions.from_qt(s.cursor.selectionStart()), self.positions.from_qt(s.cursor.selectionEnd()))
            for s in self._answer_selections
        ]

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
        return self._qt_cursor(self.positions.to_qt(start), self.positions.to_qt(end))

    def _qt_cursor(self, start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _apply_selections(self) -> None:
        self.setExtraSelections(self._find_selections + self._answer_selections)

    # -- find ---------------------------------------------------------------------------------

    @property
    def find_matches(self) -> list[tuple[int, int]]:
        """Every match as Qt (start, end) positions."""
        return list(zip(self._find_starts.tolist(), self._find_ends.tolist(), strict=True))

    @property
    def find_count(self) -> int:
        return len(self._find_starts)

    def set_find(self, query: str) -> int:
        """Highlight every match of ``query`` (any case); the number of matches, or -1 while a long
        text is searched on the pool (``find_changed`` says when the matches are in)."""
        self._find_generation += 1
        self.find_query, self.find_error = query, ""
        self.find_pending = False
        self._set_matches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if query and (not self.ready or len(self.text) > self.find_at_once_chars):
            self.find_pending = True
            if self.ready:
                self._search_in_pool(query)
            self._apply_selections()
            return -1
        if query:
            self._set_matches(*find_all(self.text, query, self.positions))
        self._apply_selections()
        return self.find_count

    def _search_in_pool(self, query: str) -> None:
        generation, text, positions = self._find_generation, self.text, self.positions
        task = CallTask(generation, lambda stop: find_all(text, query, positions, stop), stoppable=True)
        task.signals.finished.connect(self._found)
        task.signals.failed.connect(self._find_failed)
        self._start(task)

    def _found(self, generation: int, matches: tuple[np.ndarray, np.ndarray]) -> None:
        if generation != self._find_generation:
            return
        self.find_pending = False
        self._set_matches(*matches)
        self._apply_selections()
        self.find_changed.emit()

    def _find_failed(self, generation: int, message: str) -> None:
        if generation == self._find_generation:
            self.find_pending, self.find_error = False, message
            self.find_changed.emit()

    def _set_matches(self, starts: np.ndarray, ends: np.ndarray) -> None:
        self._find_starts, self._find_ends = starts, ends
        self.find_index = -1
        self._find_shown = (0, 0)
        self._find_selections = []
        if len(starts):
            self._highlight_matches_near(self._visible_range())

    def _visible_range(self) -> tuple[int, int]:
        """Qt positions from the first to past the last block on screen."""
        first = self.firstVisibleBlock()
        if not first.isValid():
            return 0, 0
        bottom = self.cursorForPosition(self.viewport().rect().bottomRight()).position()
        return first.position(), max(first.position() + first.length(), bottom + 1)

    def _highlight_matches_near(self, visible: tuple[int, int]) -> None:
        """Highlight the matches around what is on screen (at most ``MAX_FIND_HIGHLIGHTS``): a
        highlight costs a line layout, and a common word has millions of matches in a book."""
        low = int(np.searchsorted(self._find_starts, visible[0]))
        high = int(np.searchsorted(self._find_starts, visible[1]))
        spare = max(0, MAX_FIND_HIGHLIGHTS - (high - low))
        first = max(0, low - spare // 2)
        last = min(len(self._find_starts), max(high, first + MAX_FIND_HIGHLIGHTS))
        first = max(0, min(first, last - MAX_FIND_HIGHLIGHTS))
        fmt = QTextCharFormat()
        fmt.setBackground(find_color(self.palette()))
        selections = []
        starts, ends = self._find_starts[first:last].tolist(), self._find_ends[first:last].tolist()
        for start, end in zip(starts, ends, strict=True):
            selection = QTextEdit.ExtraSelection()
            selection.cursor, selection.format = self._qt_cursor(start, end), fmt
            selections.append(selection)
        self._find_selections = selections
        covered_from = 0 if first == 0 else int(self._find_starts[first])
        every = last == len(self._find_starts)
        covered_to = self.document().characterCount() if every else int(self._find_starts[last - 1])
        self._find_shown = (covered_from, covered_to)

    def _follow_find(self) -> None:
        """After a scroll, highlight the matches now on screen if they were not."""
        if len(self._find_starts) <= MAX_FIND_HIGHLIGHTS or not self.ready:
            return
        start, end = self._visible_range()
        if start < self._find_shown[0] or end > self._find_shown[1]:
            self._highlight_matches_near((start, end))
            self._apply_selections()

    def find_step(self, delta: int) -> int:
        """Go to the next (or previous) match after the cursor; its index, or -1 without matches."""
        count = len(self._find_starts)
        if not count:
            return -1
        if self.find_index < 0:
            cursor = self.textCursor()
            if delta > 0:
                index = int(np.searchsorted(self._find_starts, cursor.selectionStart(), "left"))
            else:
                index = int(np.searchsorted(self._find_starts, cursor.selectionEnd() - 1, "right")) - 1
        else:
            index = self.find_index + delta
        self.find_index = index % count
        start, end = int(self._find_starts[self.find_index]), int(self._find_ends[self.find_index])
        self.setTextCursor(self._qt_cursor(start, end))
        self.centerCursor()
        self._follow_find()
        return self.find_index

    def clear_find(self) -> None:
        self.set_find("")

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

    def scroll_to_fraction(self, fraction: float) -> None:
        bar = self.verticalScrollBar()
        total = bar.maximum() + bar.pageStep()
        bar.setValue(round(fraction * total - bar.pageStep() / 2))


class ReadMap(QWidget):
    """A strip beside the document: the parts a question read, where the answers are, and what is
    on screen. A click takes the view there."""

    def __init__(self, view: DocumentView) -> None:
        super().__init__()
        self.view = view
        self.spans: list[Span] = []
        self._starts = np.zeros(0, dtype=np.int64)
        self._ends = np.zeros(0, dtype=np.int64)
        self._count = 0
        self.answer_offsets: list[int] = []
        self.setFixedWidth(14)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("What was read")
        self._set_tip(0, 0)
        view.view_changed.connect(self.update)

    def set_plan(self, spans: list[Span]) -> None:
        self.spans = spans
        array = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        self._starts, self._ends = array[:, 0].copy(), array[:, 1].copy()
        self.set_read(0)

    def set_read(self, count: int) -> None:
        self._count = min(count, len(self._starts))
        self._set_tip(self._count, len(self._starts))
        self.update()

    def read_spans(self) -> list[Span]:
        """The parts read so far, joined where they overlap."""
        return merged(list(zip(self._starts[: self._count].tolist(), self._ends[: self._count].tolist(), strict=True)))

    def set_answers(self, offsets: list[int]) -> None:
        self.answer_offsets = offsets
        self.update()

    def _set_tip(self, count: int, total: int) -> None:
        if total:
            self.setToolTip(
                f"Read for this question: {plural(count, 'part')} of {total:,}, the most relevant first "
                "(shaded); answers are marked in amber. Click to go there."
            )
        else:
            self.setToolTip("Shows which parts of the document a question read. Click to go there.")

    def read_rows(self, height: int) -> list[tuple[int, int]]:
        """(top, bottom) pixel runs of the parts read, on a strip ``height`` pixels high."""
        if not self._count or height <= 0:
            return []
        rows = self.view.rows_of(np.concatenate([self._starts[: self._count], self._ends[: self._count]]), height)
        tops, bottoms = rows[: self._count], np.maximum(rows[self._count :], rows[: self._count] + 1)
        cover = np.zeros(height + 2, dtype=np.int64)
        np.add.at(cover, tops, 1)
        np.add.at(cover, np.minimum(bottoms, height + 1), -1)
        read = np.cumsum(cover)[: height + 1] > 0
        edges = np.flatnonzero(np.diff(np.concatenate([[False], read, [False]]).astype(np.int8)))
        return [(int(top), int(bottom)) for top, bottom in zip(edges[0::2], edges[1::2], strict=True)]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        height = self.height()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        if not self.view.ready:
            return
        read = QColor(palette.color(QPalette.ColorRole.Highlight))
        read.setAlpha(110)
        for top, bottom in self.read_rows(height):
            painter.fillRect(2, top, self.width() - 4, bottom - top, read)
        amber = highlight_color(palette, 1.0)
        amber.setAlpha(255)
        for offset in self.answer_offsets:
            y = round(self.view.fraction_of(offset) * height)
            painter.fillRect(0, max(0, y - 1), self.width(), 3, amber)
        first, last = self.view.visible_fraction()
        frame = QColor(palette.color(QPalette.ColorRole.Text))
        frame.setAlpha(120)
        painter.setPen(frame)
        painter.drawRect(0, round(first * height), self.width() - 1, max(3, round((last - first) * height) - 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.view.reader_moved.emit()
        self.view.scroll_to_fraction(event.position().y() / max(1, self.height()))


class FindBar(QWidget):
    """Find in the document: Enter and Shift+Enter step, Esc closes."""

    closed = Signal()

    def __init__(self, view: DocumentView) -> None:
        super().__init__()
        self.view = view
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.field = QLineEdit()
        self.field.setPlaceholderText("Find in the document")
        self.field.setClearButtonEnabled(True)
        self.field.setAccessibleName("Find in the document")
        self.count = QLabel("")
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance("10,000 of 10,000"))
        self.previous_button = QToolButton()
        self.previous_button.setText("↑")
        self.previous_button.setToolTip("Previous match (Shift+Enter, Ctrl+Shift+G)")
        self.next_button = QToolButton()
        self.next_button.setText("↓")
        self.next_button.setToolTip("Next match (Enter, Ctrl+G)")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close (Esc)")
        label = QLabel("Find:")
        label.setBuddy(self.field)
        for widget in (label, self.field, self.count, self.previous_button, self.next_button, self.close_button):
            layout.addWidget(widget, 1 if widget is self.field else 0)
        self.field.textChanged.connect(self._search)
        self.field.returnPressed.connect(lambda: self.step(1))
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.close_button.clicked.connect(self.close_bar)
        self.field.installEventFilter(self)
        view.find_changed.connect(lambda: self._show_count(-1))
        view.display_ready.connect(lambda: self._show_count(-1))
        self.setVisible(False)

    def open_bar(self) -> None:
        selected = self.view.textCursor().selectedText()
        if selected and "\u2029" not in selected and len(selected) < 100:
            self.field.setText(selected)
        self.setVisible(True)
        self.field.setFocus()
        self.field.selectAll()
        self._search(self.field.text())

    def close_bar(self) -> None:
        self.view.clear_find()
        self.count.setText("")
        self.setVisible(False)
        self.view.setFocus()
        self.closed.emit()

    def step(self, delta: int) -> None:
        if not self.isVisible():
            self.open_bar()
            return
        if self.view.find_pending:
            return  # the matches are not in yet; the count says "Searching…"
        index = self.view.find_step(delta)
        self._show_count(index)

    def _search(self, query: str) -> None:
        self.view.set_find(query)
        self._show_count(-1)

    def _show_count(self, index: int) -> None:
        total = self.view.find_count
        if not self.field.text():
            self.count.setText("")
        elif self.view.find_pending:
            self.count.setText("Searching…")
        elif self.view.find_error:
            self.count.setText("Not searched")
            self.count.setToolTip(self.view.find_error)
        elif total == 0:
            self.count.setText("No matches")
        elif index < 0:
            self.count.setText(plural(total, "match", "matches"))
        else:
            self.count.setText(f"{index + 1:,} of {total:,}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field:
            key_event = event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            if key_event and event.key() == Qt.Key.Key_Escape:
                if event.type() == QEvent.Type.ShortcutOverride:
                    event.accept()  # Esc closes the bar here; it does not cancel the question
                else:
                    self.close_bar()
                return True
            if (
                event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            ):
                self.step(-1)
                return True
        return super().eventFilter(watched, event)


class DocumentPane(QWidget):
    """The document view with its read map on the right and the find bar below."""

    def __init__(self, pool: QThreadPool | None = None) -> None:
        super().__init__()
        self.view = DocumentView(pool=pool)
        self.read_map = ReadMap(self.view)
        self.find_bar = FindBar(self.view)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.view, 1)
        row.addWidget(self.read_map)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row, 1)
        layout.addWidget(self.find_bar)
