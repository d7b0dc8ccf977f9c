"""The library in the window: a side panel (View, Library), its menu entries and what they do.

Asking the library opens a tab of its best passages, each under a heading that names its file;
the window reads it as any document (answers highlighted, streaming, a verdict when the library
seems not to answer). An answer chosen there is opened in its own document with Open the Answer's
Document (or a double click): the document as the library keeps it, the answer selected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLineEdit, QMenu

from ..core.decoding import Answer
from ..core.documents import Document
from ..core.library import IndexProgress, LibraryAnswer, ReadingSet
from ..core.reading import Prediction
from .answers_panel import AnswersPanel
from .controller import ReadingController
from .document_views import DocumentViews
from .library_manager import LibraryManager
from .library_panel import LibraryPanel


class LibraryHost(Protocol):
    """What the dock uses of the window it sits in (``MainWindow``)."""

    pool: QThreadPool
    controller: ReadingController
    answers: AnswersPanel
    question: QLineEdit
    document_view: DocumentViews

    @property
    def document(self) -> Document | None: ...

    @property
    def prediction(self) -> Prediction | None: ...

    def _action(self, text: str, shortcut, slot, icon=None) -> QAction: ...

    def _show_status(self, message: str, milliseconds: int = 0) -> None: ...

    def open_file(self, path: Path) -> None: ...

    def focus_question(self) -> None: ...


MESSAGE_MS = 8000


class LibraryDock(QDockWidget):
    def __init__(self, window: LibraryHost, library_path: Path | None = None) -> None:
        super().__init__("Library", window)
        self.setObjectName("libraryDock")
        self.window_ = window
        self._opening: LibraryAnswer | None = None  # an answer whose document is being opened
        self.panel = LibraryPanel(self)
        self.setWidget(self.panel)
        self.setVisible(False)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self)
        self.manager = LibraryManager(library_path, window.pool, self)
        self.toggle_action = self.toggleViewAction()
        self.toggle_action.setText("&Library")
        self.toggle_action.setShortcut("Ctrl+Shift+L")
        window.addAction(self.toggle_action)
        self.add_folder_action = window._action("Add &Folder to Library…", None, self.choose_folder)
        self.add_files_action = window._action("Add F&iles to Library…", None, self.choose_files)
        self.ask_action = window._action("Ask the &Library", "Ctrl+Shift+Return", self.ask)
        self.open_source_action = window._action("&Open the Answer's Document", "Ctrl+Shift+D", self.open_source)
        self.open_source_action.setEnabled(False)
        self.panel.add_folder_requested.connect(self.choose_folder)
        self.panel.add_files_requested.connect(self.choose_files)
        self.panel.remove_requested.connect(self.manager.remove)
        self.panel.pause_toggled.connect(self.manager.set_paused)
        self.panel.open_requested.connect(self.open_document)
        self.manager.changed.connect(self.refresh)
        self.manager.progress.connect(self._progress)
        self.manager.message.connect(lambda text: window._show_status(text, MESSAGE_MS))
        self.manager.reading_set_ready.connect(self._read)
        self.manager.search_failed.connect(lambda text: window._show_status(text, MESSAGE_MS))
        window.controller.document_changed.connect(self._document_changed)
        window.controller.meaning = self.manager.meaning  # a document the library holds is read by meaning too
        window.answers.list.itemDoubleClicked.connect(lambda _: self.open_source())
        self.manager.start()

    def add_to_menus(self, file_menu: QMenu, view_menu: QMenu, ask_menu: QMenu) -> None:
        file_menu.insertSeparator(file_menu.actions()[-1])
        for action in (self.add_folder_action, self.add_files_action):
            file_menu.insertAction(file_menu.actions()[-2], action)
        view_menu.addSeparator()
        view_menu.addAction(self.toggle_action)
        ask_menu.addSeparator()
        ask_menu.addAction(self.ask_action)
        ask_menu.addAction(self.open_source_action)

    def shutdown(self) -> None:
        self.manager.shutdown()

    # -- the panel ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.panel.show_documents(self.manager.folders(), self.manager.documents())

    def _progress(self, progress: IndexProgress | None) -> None:
        self.panel.show_progress(progress)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window_, "Add a Folder to the Library")
        if folder:
            self.add([Path(folder)])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.window_, "Add Files to the Library")
        if files:
            self.add([Path(f) for f in files])

    def add(self, paths: list[Path]) -> None:
        """Add folders or files (a folder dropped on the window comes here too); the panel shows them."""
        self.setVisible(True)
        self.manager.add(paths)

    def open_document(self, path: str) -> None:
        if Path(path).is_file():
            self.window_.open_file(Path(path))
            return
        document = self.manager.source_of(path)
        if document is not None:
            self.window_.controller.set_document(document)

    # -- asking -------------------------------------------------------------------------------------

    def ask(self) -> None:
        question = self.window_.question.text().strip()
        if not question:
            self.window_.focus_question()
            self.window_._show_status("Type a question, then Ask the Library", MESSAGE_MS)
            return
        folder = self.panel.scope()
        where = f"the folder {Path(folder).name}" if folder else "the library"
        self.window_._show_status(f"Searching {where}…", MESSAGE_MS)
        self.manager.search(question, folder)

    def _read(self, reading: ReadingSet, question: str) -> None:
        self.window_.controller.set_document(reading.document)
        self.window_.question.setText(question)
        self.window_.controller.ask(question)

    def _document_changed(self, document: Document) -> None:
        self.open_source_action.setEnabled(self.manager.reading_set_of(document) is not None)
        found, self._opening = self._opening, None
        if found is not None and document.origin == found.path:
            if document.text[found.start : found.end] == found.text:
                # After the window has shown it (its own handler of this signal runs after this one).
                QTimer.singleShot(0, lambda: self._select(document, found))
            else:  # the file changed since it was indexed: the library's copy still holds the answer
                self._show_kept(found)

    def open_source(self) -> None:
        """Open the selected answer of a library question in its own document, selected there: the
        file itself (a PDF with its pages), else the document as the library keeps it."""
        window = self.window_
        reading = self.manager.reading_set_of(window.document)
        prediction = window.prediction
        row = window.controller.selected
        if reading is None or prediction is None or not 0 <= row < len(prediction.answers):
            return
        found = reading.locate(prediction.answers[row])
        if Path(found.path).is_file():
            self._opening = found  # selected when it arrives (``_document_changed``)
            window.open_file(Path(found.path))
        else:
            self._show_kept(found)

    def _show_kept(self, found: LibraryAnswer) -> None:
        document = self.manager.source_of(found.path)
        if document is None:
            self.window_._show_status(f"{found.name} is no longer in the library", MESSAGE_MS)
            return
        self.window_.controller.set_document(document)
        self._select(document, found)

    def _select(self, document: Document, found: LibraryAnswer) -> None:
        answer = Answer(found.text, found.start, found.end, found.score, 0.0, document.id)
        self.window_.document_view.highlight([answer])
        self.window_.document_view.select_answer(answer, reveal=True)
