"""The document pane: a document's view with its read map on the right and its find bar below.

The pane is built around any view that implements ``DocumentDisplay`` (the text view for every
format today); the window talks to the view through that interface only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from .document_display import DocumentDisplay
from .find_bar import FindBar
from .read_map import ReadMap


class DocumentPane(QWidget):
    def __init__(self, view: QWidget) -> None:
        super().__init__()
        if not isinstance(view, DocumentDisplay):
            raise TypeError(f"{type(view).__name__} is not a document view")
        self.view: DocumentDisplay = view
        self.read_map = ReadMap(view)
        self.find_bar = FindBar(view)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(view, 1)
        row.addWidget(self.read_map)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row, 1)
        layout.addWidget(self.find_bar)
