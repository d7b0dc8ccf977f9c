"""The document pane: the text as the engine read it, with answer spans highlighted."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from reading_assistant.core.decoding import Answer


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


class DocumentView(QPlainTextEdit):
    """Read-only text with highlights; drops go to the window, which opens the file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAcceptDrops(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 10.0) * 1.15)
        self.setFont(font)
        self.document().setDocumentMargin(18)
        self.positions = QtPositions("")
        self._answers: list[Answer] = []

    def show_text(self, text: str) -> None:
        self.positions = QtPositions(text)
        self._answers = []
        self.setPlainText(self.positions.display_text)
        self.setExtraSelections([])
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def highlight(self, answers: list[Answer]) -> None:
        """Highlight every answer span; the strongest colour for the most confident."""
        self._answers = list(answers)
        selections = []
        for answer in sorted(answers, key=lambda a: a.score):
            selection = QTextEdit.ExtraSelection()
            selection.cursor = self._cursor_for(answer)
            fmt = QTextCharFormat()
            fmt.setBackground(highlight_color(self.palette(), answer.score))
            fmt.setToolTip(f"{100 * answer.score:.1f}% confidence")
            selection.format = fmt
            selections.append(selection)
        self.setExtraSelections(selections)

    def highlighted_ranges(self) -> list[tuple[int, int]]:
        """The highlighted spans as character offsets of the original text."""
        return [
            (self.positions.from_qt(s.cursor.selectionStart()), self.positions.from_qt(s.cursor.selectionEnd()))
            for s in self.extraSelections()
        ]

    def reveal(self, answer: Answer) -> None:
        """Scroll to the answer and select it."""
        self.setTextCursor(self._cursor_for(answer))
        self.centerCursor()

    def _cursor_for(self, answer: Answer) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self.positions.to_qt(answer.start))
        cursor.setPosition(self.positions.to_qt(answer.end), QTextCursor.MoveMode.KeepAnchor)
        return cursor
