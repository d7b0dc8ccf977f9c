"""The document pane: the text as the engine read it, answer spans highlighted, page and chapter
markers in a gutter, find in the document, and a strip showing which parts a question read."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, Signal
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
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from reading_assistant.core.decoding import Answer
from reading_assistant.core.documents import Section
from reading_assistant.gui.read_map import Span, merged
from reading_assistant.gui.words import plural, sentence

MAX_FIND_HIGHLIGHTS = 2000
ZOOM_RANGE = (-6, 16)  # points below and above the default size


class QtPositions:
    """Maps character offsets of a Python string to positions in a QTextDocument.

    Qt counts UTF-16 code units (an emoji is two) and drops the ``\\r`` of ``\\r\\n``.
    """

    def __init__(self, text: str) -> None:
        code_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        self._astral = np.flatnonzero(code_points > 0xFFFF)
        self._dropped = np.flatnonzero((code_points[:-1] == 13) & (code_points[1:] == 10))
        self.display_text = text.replace("\r\n", "\n").replace("\r", "\n")

    def to_qt(self, offset: int) -> int:
        return int(offset + np.searchsorted(self._astral, offset) - np.searchsorted(self._dropped, offset))

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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAcceptDrops(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setAccessibleName("Document")
        self.base_point_size = max(self.font().pointSizeF(), 10.0) * 1.15
        self.zoom = 0
        self.set_zoom(0)
        self.document().setDocumentMargin(18)
        self.positions = QtPositions("")
        self.text = ""
        self._answers: list[Answer] = []
        self._guesses = False
        self._answer_selections: list[QTextEdit.ExtraSelection] = []
        self._find_selections: list[QTextEdit.ExtraSelection] = []
        self.find_matches: list[tuple[int, int]] = []  # Qt positions
        self.find_index = -1
        self._markers: dict[int, str] = {}  # block number -> label
        self.gutter = MarkerGutter(self)
        self.gutter.setVisible(False)
        self.updateRequest.connect(self._update_gutter)
        self.verticalScrollBar().actionTriggered.connect(lambda _: self.reader_moved.emit())
        self.verticalScrollBar().valueChanged.connect(lambda _: self.view_changed.emit())

    # -- text, zoom, markers ------------------------------------------------------------------

    def show_text(self, text: str, sections: tuple[Section, ...] = ()) -> None:
        self.text = text
        self.positions = QtPositions(text)
        self._answers = []
        self._answer_selections, self._find_selections = [], []
        self.find_matches, self.find_index = [], -1
        self.setPlainText(self.positions.display_text)
        self.setExtraSelections([])
        self.moveCursor(QTextCursor.MoveOperation.Start)
        document = self.document()
        self._markers = {}
        for section in sections:
            block = document.findBlock(self.positions.to_qt(section.start))
            self._markers.setdefault(block.blockNumber(), sentence(section.label))
        self.gutter.setVisible(bool(self._markers))
        self._layout_gutter()

    @property
    def markers(self) -> dict[int, str]:
        return dict(self._markers)

    def gutter_width(self) -> int:
        return 12 * self.fontMetrics().horizontalAdvance("0") if self._markers else 0

    def visible_markers(self) -> list[tuple[int, str]]:
        """(top in the gutter, label) of each marker on screen."""
        result = []
        block = self.firstVisibleBlock()
        offset = self.contentOffset()
        height = self.viewport().height()
        while block.isValid():
            top = round(self.blockBoundingGeometry(block).translated(offset).top())
            if top > height:
                break
            label = self._markers.get(block.blockNumber())
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
        document seems not to answer) only get a dotted underline, so they never look like answers."""
        self._answers = list(answers)
        self._guesses = guesses
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
                fmt.setToolTip(f"{100 * answer.score:.1f}% confidence")
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
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.positions.to_qt(start))
        cursor.setPosition(self.positions.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _apply_selections(self) -> None:
        self.setExtraSelections(self._find_selections + self._answer_selections)

    # -- find ---------------------------------------------------------------------------------

    def set_find(self, query: str) -> int:
        """Highlight every match of ``query`` (any case); the number of matches."""
        self.find_matches, self.find_index = [], -1
        self._find_selections = []
        if query:
            offsets = np.array(
                [(m.start(), m.end()) for m in re.finditer(re.escape(query), self.text, re.IGNORECASE)], dtype=np.int64
            ).reshape(-1, 2)
            self.find_matches = [(self.positions.to_qt(int(s)), self.positions.to_qt(int(e))) for s, e in offsets]
            fmt = QTextCharFormat()
            fmt.setBackground(find_color(self.palette()))
            for start, end in self.find_matches[:MAX_FIND_HIGHLIGHTS]:
                selection = QTextEdit.ExtraSelection()
                cursor = QTextCursor(self.document())
                cursor.setPosition(start)
                cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                selection.cursor, selection.format = cursor, fmt
                self._find_selections.append(selection)
        self._apply_selections()
        return len(self.find_matches)

    def find_step(self, delta: int) -> int:
        """Go to the next (or previous) match after the cursor; its index, or -1 without matches."""
        if not self.find_matches:
            return -1
        if self.find_index < 0:
            here = self.textCursor().selectionStart() if delta > 0 else self.textCursor().selectionEnd()
            starts = [s for s, _ in self.find_matches]
            index = bisect_left(starts, here) if delta > 0 else bisect_right(starts, here - 1) - 1
        else:
            index = self.find_index + delta
        self.find_index = index % len(self.find_matches)
        start, end = self.find_matches[self.find_index]
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.centerCursor()
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
        self._read: list[Span] = []
        self.answer_offsets: list[int] = []
        self.setFixedWidth(14)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("What was read")
        self._set_tip(0, 0)
        view.view_changed.connect(self.update)

    def set_plan(self, spans: list[Span]) -> None:
        self.spans = spans
        self.set_read(0)

    def set_read(self, count: int) -> None:
        count = min(count, len(self.spans))
        self._read = merged(self.spans[:count])
        self._set_tip(count, len(self.spans))
        self.update()

    def read_spans(self) -> list[Span]:
        return list(self._read)

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

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        height = self.height()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        read = QColor(palette.color(QPalette.ColorRole.Highlight))
        read.setAlpha(110)
        for start, end in self._read:
            top = round(self.view.fraction_of(start) * height)
            bottom = max(top + 1, round(self.view.fraction_of(end) * height))
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
        index = self.view.find_step(delta)
        self._show_count(index)

    def _search(self, query: str) -> None:
        self.view.set_find(query)
        self._show_count(-1)

    def _show_count(self, index: int) -> None:
        total = len(self.view.find_matches)
        if not self.field.text():
            self.count.setText("")
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

    def __init__(self) -> None:
        super().__init__()
        self.view = DocumentView()
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
