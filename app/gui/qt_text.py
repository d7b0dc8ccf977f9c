"""The text as Qt holds it: offsets of the Python string mapped to positions of a QTextDocument,
and that document built off the GUI thread a slice at a time, then freed off it too.

A long document is never laid out while the window waits. Its Qt document and the map from
character offsets to Qt positions are built on the thread pool, a slice at a time (a Qt call holds
the interpreter, and with it the window, until it returns), then handed to the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QCoreApplication, QThreadPool
from PySide6.QtGui import QFont, QFontDatabase, QTextCharFormat, QTextCursor, QTextDocument, QTextOption
from PySide6.QtWidgets import QPlainTextDocumentLayout

from ..core.documents import Section
from ..core.errors import Cancelled
from .code_layout import CodeBlocksLayout, mark_code_lines
from .tasks import CallTask
from .words import shown_label

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


MAX_CODE_SPANS = 20_000  # past this many code blocks, the rest are shown in the text's own font


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
    code_spans: tuple[tuple[int, int], ...] = (),
) -> Display:
    """A text's Qt document and positions, built in the calling thread and then handed to the GUI
    thread; raises ``Cancelled`` as soon as ``stop()`` says a newer text won. ``code_spans`` are
    shown in a monospace font (at the text's size, so zoom still applies) and never wrapped."""
    positions = QtPositions(text, stop)
    document = QTextDocument()
    document.setUndoRedoEnabled(False)
    code_spans = code_spans[:MAX_CODE_SPANS]
    layout = CodeBlocksLayout(document) if code_spans else QPlainTextDocumentLayout(document)
    document.setDocumentLayout(layout)
    document.setDefaultFont(font)
    document.setDefaultTextOption(option)
    document.setDocumentMargin(margin)
    cursor = QTextCursor(document)
    for piece in positions.display_pieces():
        if stop():
            raise Cancelled("a newer document was opened")
        cursor.insertText(piece)
    if code_spans:
        code = QTextCharFormat()
        code.setFontFamilies([QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()])
        code.setFontFixedPitch(True)
        qt_spans = [(positions.to_qt(start), positions.to_qt(end)) for start, end in code_spans]
        for start, end in qt_spans:
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(code)
        mark_code_lines(document, qt_spans)
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
    labels = [shown_label(section.label) for section in sections]
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
