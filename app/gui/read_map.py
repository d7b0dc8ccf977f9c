"""The read map: a strip beside the document showing which parts a question read, where the answers
are and what is on screen. The engine's plan gives every window's character span in reading order,
and a read of ``n`` windows has read the first ``n`` of them; the strip is drawn a pixel row at a
time, whatever the number of windows, from the geometry any document view gives (``Mappable``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

from ..core.reading import Span
from .colors import highlight_color
from .document_display import Mappable
from .words import plural


def merged(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, sorted by start."""
    result: list[Span] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


class ReadMap(QWidget):
    """A strip beside the document: the parts a question read, where the answers are, and what is
    on screen. A click takes the view there."""

    def __init__(self, view: Mappable) -> None:
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
