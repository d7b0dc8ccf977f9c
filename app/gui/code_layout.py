"""Code blocks laid out unwrapped, as their author set them, while prose wraps at the view's width.

QPlainTextEdit wraps every line or none. Its layout asks ``blockBoundingRect`` before it paints,
hit-tests or scrolls to a block, so a layout that lays a code line out on one line there (and
counts its width in ``documentSize``, which sets the horizontal scroll bar's range) shows code
unwrapped and lets the reader scroll sideways to its end. Only documents with code blocks get this
layout, so a book without code never calls into Python to be laid out.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSizeF
from PySide6.QtGui import QTextBlock, QTextDocument, QTextOption
from PySide6.QtWidgets import QPlainTextDocumentLayout

CODE_LINE = 1  # the user state of a block that is a line of a code block


def mark_code_lines(document: QTextDocument, qt_spans: list[tuple[int, int]]) -> None:
    """Mark every block that starts inside one of ``qt_spans`` (Qt positions) as a code line."""
    for start, end in qt_spans:
        block = document.findBlock(start)
        while block.isValid() and block.position() < end:
            block.setUserState(CODE_LINE)
            block = block.next()


class CodeBlocksLayout(QPlainTextDocumentLayout):
    """The plain-text layout, except that code lines are never wrapped."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._code_widths: dict[int, float] = {}  # block number: the width its unwrapped line needs

    def blockBoundingRect(self, block: QTextBlock) -> QRectF:
        if block.userState() == CODE_LINE:
            layout = block.layout()
            # The plain layout lays a block out wrapped wherever it gets to it first (a resize, a
            # zoom, a cursor moved there): a wrapped code line is laid out again here.
            if layout.lineCount() == 0 or layout.textOption().wrapMode() != QTextOption.WrapMode.NoWrap:
                self._lay_out_unwrapped(block)
        return super().blockBoundingRect(block)

    def documentSize(self) -> QSizeF:
        size = super().documentSize()
        return QSizeF(max(size.width(), max(self._code_widths.values(), default=0.0)), size.height())

    def documentChanged(self, position: int, removed: int, added: int) -> None:
        if position == 0 and added >= self.document().characterCount() - 1:
            self._code_widths.clear()  # a new font: every line is laid out again, at its new width
        super().documentChanged(position, removed, added)

    def _lay_out_unwrapped(self, block: QTextBlock) -> None:
        document = self.document()
        margin = document.documentMargin()
        layout = block.layout()
        option = QTextOption(document.defaultTextOption())
        option.setWrapMode(QTextOption.WrapMode.NoWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        top = 0.0
        line = layout.createLine()
        while line.isValid():  # one line, unless the text holds a line separator
            line.setLeadingIncluded(True)
            line.setLineWidth(0.0)  # unwrapped, the line is as wide as its text whatever this says
            line.setPosition(QPointF(margin, top))
            top += line.height()
            line = layout.createLine()
        layout.endLayout()
        lines_before = document.lineCount()
        block.setLineCount(layout.lineCount() if block.isVisible() else 0)
        widest = max(self._code_widths.values(), default=0.0)
        width = max((layout.lineAt(i).naturalTextWidth() for i in range(layout.lineCount())), default=0.0)
        self._code_widths[block.blockNumber()] = width + 2 * margin
        if document.lineCount() != lines_before or width + 2 * margin > widest:
            self.documentSizeChanged.emit(self.documentSize())
