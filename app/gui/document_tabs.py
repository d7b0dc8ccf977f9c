"""A tab for each open document, above the document; shown once two or more are open.

The tabs show the controller's open documents and ask it to switch or close; a tab holding pasted
text that could not be kept asks before it closes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar, QWidget

from .controller import ReadingController
from .paste_dialog import ask_before_losing


class DocumentTabs(QTabBar):
    def __init__(self, controller: ReadingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setAutoHide(True)  # one document: no tab bar
        self.setTabsClosable(True)
        self.setDocumentMode(True)
        self.setExpanding(False)
        self.setUsesScrollButtons(True)
        self.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.setAccessibleName("Open documents")
        self._filling = False
        controller.documents_changed.connect(self.fill)
        self.currentChanged.connect(self._chosen)
        self.tabCloseRequested.connect(self._close_requested)

    def fill(self, documents: list[tuple[str, str]]) -> None:
        """The open documents, the shown one's tab current."""
        self._filling = True
        while self.count():
            self.removeTab(0)
        shown = self.controller.current.document.id if self.controller.current is not None else None
        for document_id, name in documents:
            index = self.addTab(name.replace("&", "&&"))
            self.setTabData(index, document_id)
            self.setTabToolTip(index, name)
            if document_id == shown:
                self.setCurrentIndex(index)
        self._filling = False

    def ids(self) -> list[str]:
        return [self.tabData(i) for i in range(self.count())]

    def close_current(self) -> None:
        """File > Close Document (Ctrl+W)."""
        if self.controller.current is not None:
            self._close(self.controller.current.document.id)

    def _chosen(self, index: int) -> None:
        if not self._filling and index >= 0:
            self.controller.switch_to(self.tabData(index))

    def _close_requested(self, index: int) -> None:
        self._close(self.tabData(index))

    def _close(self, document_id: str) -> None:
        state = self.controller.documents.by_id(document_id)
        if state is not None and state.unkept:
            ask_before_losing(self.window(), state.document.name, lambda: self.controller.close_document(document_id))
        else:
            self.controller.close_document(document_id)
