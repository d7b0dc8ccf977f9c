"""The main window: document on the left, question and answers on the right."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt, QThreadPool
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ..core.documents import Document, supported_suffixes
from ..core.library.asking import LIBRARY_FORMAT
from ..core.reading import Prediction, ReadingEngine
from .about import AboutDialog
from .answer_export import AnswerExporter
from .answers_panel import AnswersPanel
from .controller import EngineOpener, ReadingController, open_engine_for
from .document_display import DocumentDisplay
from .document_pane import DocumentPane
from .document_tabs import DocumentTabs
from .document_views import DocumentViews
from .library_dock import LibraryDock
from .paste_dialog import ask_before_opening
from .reading_places import ReadingPlaces
from .recent_menu import RecentMenu
from .settings import Store
from .settings_dialog import SettingsDialog
from .theme import theme_menu
from .widgets import ElidedLabel, EmptyState, GripSplitter, QuestionBox, ShortcutsDialog, app_icon, fit_to_screen
from .window_keys import WindowKeys
from .words import Locator, document_kind, share, share_read

DEFAULT_SIZE = QSize(1200, 760)
# How long a worker thread may keep the interpreter before the window gets it back (Python's
# default is 5 ms). The window gives it up at every Qt call that waits; with the default each
# return could wait 5 ms behind a busy worker, and one turn of the event loop makes dozens.
SWITCH_INTERVAL_S = 0.001


class MainWindow(QMainWindow):
    """Builds the widgets and connects them to the controller, which decides what they show."""

    def __init__(
        self, store: Store | None = None, pool: QThreadPool | None = None, opener: EngineOpener = open_engine_for
    ) -> None:
        super().__init__()
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self.setWindowTitle("Reading Assistant")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.store = store or Store()
        self.controller = ReadingController(self.store, pool, opener)
        self.exporter = AnswerExporter(self)
        self.locator: Locator | None = None
        self._told_to_open_first = False
        self._fitted = False

        self._build_actions()
        self._build_layout()
        self.library = LibraryDock(self)
        # Every shortcut but those that mean something where the focus is (Ctrl+V, Esc; Ctrl+C is the
        # list's), on every widget that takes the focus.
        focusable = (self.question, self.find_bar.field, self.views.page_box, self.text_view, self.views.page_view)
        self.window_keys = WindowKeys(
            self,
            [a for a in self.actions() if a not in (self.paste_key_action, self.cancel_action)],
            (*focusable, self.answers.list, self.views.outline, self.tabs, self.library.panel.tree),
        )
        self._build_menus()
        self._connect_controller()
        self._restore_state()
        self.question.setFocus()  # the first keystrokes are a question, never a button press
        self.controller.load_engine()

    # -- what the controller holds ------------------------------------------------------------

    @property
    def engine(self) -> ReadingEngine | None:
        return self.controller.engine

    @property
    def document(self) -> Document | None:
        return self.controller.document

    @property
    def prediction(self) -> Prediction | None:
        return self.controller.prediction

    @property
    def pool(self) -> QThreadPool:
        return self.controller.pool

    # -- construction -------------------------------------------------------------------------

    def _action(self, text: str, shortcut, slot, icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            sequences = [QKeySequence(s) for s in (shortcut if isinstance(shortcut, list) else [shortcut])]
            # A platform's standard key may be empty or the same as the one added beside it.
            action.setShortcuts([s for n, s in enumerate(sequences) if not s.isEmpty() and s not in sequences[:n]])
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        key = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", key.Open, self.choose_file, sp.SP_DialogOpenButton)
        self.reopen_action = self._action("&Reopen Last Document", "Ctrl+Shift+T", self.reopen_last)
        self.paste_action = self._action("&New from Clipboard", None, self.paste_document, sp.SP_FileIcon)
        # Ctrl+V: into the question box when it has focus; a new document only from the empty window
        # or after the reader confirms, so a stray paste never throws a book away.
        self.paste_key_action = self._action("Paste", key.Paste, self.paste)
        self.close_action = self._action("&Close Document", [key.Close, "Ctrl+W"], lambda: self.tabs.close_current())
        self.forget_action = self._action("&Forget This Document", None, self.forget_document)
        self.forget_action.setEnabled(False)
        self.export_action = self._action("&Export Answers…", "Ctrl+E", lambda: self.exporter.export_answers())
        self.settings_action = self._action("&Settings…", "Ctrl+,", self.open_settings)
        # Windows has no standard Quit key, and the offscreen key scheme neither: the README promises Ctrl+Q.
        self.quit_action = self._action("&Quit", [key.Quit, "Ctrl+Q"], self.close)
        self.copy_answer_action = QAction("&Copy Answer", self)
        self.copy_answer_action.setShortcut(QKeySequence(key.Copy))
        self.copy_answer_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_answer_action.triggered.connect(lambda: self.exporter.copy_answer(False))
        self.copy_evidence_action = self._action(
            "Copy Answer with &Evidence", "Ctrl+Shift+C", lambda: self.exporter.copy_answer(True)
        )
        self.find_action = self._action("&Find in Document…", key.Find, self.open_find)
        self.find_next_action = self._action("Find &Next", "Ctrl+G", lambda: self.find_bar.step(1))
        self.find_previous_action = self._action("Find Pre&vious", "Ctrl+Shift+G", lambda: self.find_bar.step(-1))
        self.zoom_in_action = self._action("Zoom &In", [key.ZoomIn, "Ctrl+="], lambda: self.zoom(1))
        self.zoom_out_action = self._action("Zoom &Out", key.ZoomOut, lambda: self.zoom(-1))
        self.zoom_reset_action = self._action("&Actual Size", "Ctrl+0", lambda: self.zoom(None))
        self.pages_action = self._action("Show &Pages or Text", "Ctrl+Shift+P", lambda: self.views.toggle_pages())
        self.go_to_page_action = self._action("&Go to Page…", "Ctrl+J", lambda: self.views.focus_page_box())
        self.outline_action = self._action("&Outline", "Ctrl+Shift+O", lambda: self.views.toggle_outline())
        self.next_action = self._action("&Next Answer", "F3", lambda: self.controller.step(1))
        self.previous_action = self._action("&Previous Answer", "Shift+F3", lambda: self.controller.step(-1))
        self.ask_action = self._action("&Ask", None, self.ask, sp.SP_MediaPlay)
        self.cancel_action = self._action("&Cancel", "Esc", self.cancel, sp.SP_MediaStop)
        self.cancel_action.setEnabled(False)
        self.read_rest_action = self._action("&Read the Rest", "Ctrl+R", self.controller.read_rest)
        self.read_rest_action.setEnabled(False)
        self.focus_question_action = self._action("Ask a &Question", "Ctrl+L", self.focus_question)
        self.shortcuts_action = self._action("&Keyboard Shortcuts", key.HelpContents, self.show_shortcuts)
        self.about_action = self._action("&About Reading Assistant", None, self.show_about)

    def _build_layout(self) -> None:
        self.views = DocumentViews(self.controller.pool, self.store.shows_pages(), self.controller.password_for)
        self.views.mode_changed.connect(self.store.save_shows_pages)
        self.places = ReadingPlaces(self.views, self.store)
        self.document_pane = DocumentPane(self.views)
        self.document_view: DocumentDisplay = self.document_pane.view
        self.text_view = self.views.text_view
        self.read_map = self.document_pane.read_map
        self.find_bar = self.document_pane.find_bar
        self.empty_state = EmptyState([self.open_action, self.paste_action, self.reopen_action])
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_state)
        self.pages.addWidget(self.document_pane)
        self.tabs = DocumentTabs(self.controller)
        documents = QWidget()
        documents_layout = QVBoxLayout(documents)
        documents_layout.setContentsMargins(0, 0, 0, 0)
        documents_layout.setSpacing(0)
        documents_layout.addWidget(self.tabs)
        documents_layout.addWidget(self.pages, 1)

        self.question = QuestionBox(self.store.questions())
        self.question.returnPressed.connect(self.ask)
        self.question.textEdited.connect(self._question_typed)
        self.ask_button = QPushButton("Ask")
        self.ask_button.setDefault(True)
        self.ask_button.clicked.connect(self.ask)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.question, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setAccessibleName("Share of the document read")
        self.answers = AnswersPanel()
        self.answers.answer_chosen.connect(self.controller.choose)
        self.answers.read_rest_requested.connect(self.controller.read_rest)
        self.answers.list.addAction(self.copy_answer_action)
        self.answers.set_menu_actions([self.copy_answer_action, self.copy_evidence_action, self.export_action])
        heading = QLabel("<b>&Question</b>")
        heading.setBuddy(self.question)
        answers_heading = QLabel("<b>Answers</b>")
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(heading)
        side_layout.addLayout(row)
        side_layout.addWidget(self.progress)
        side_layout.addWidget(answers_heading)
        side_layout.addWidget(self.answers, 1)

        self.splitter = GripSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(documents)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(8)  # easy to grab; 2 px was hard to hit
        self.splitter.handle(1).setToolTip("Drag to share the width between the document and the answers")
        self.setCentralWidget(self.splitter)

        self.state_label = ElidedLabel("")  # the window's one state message
        self.state_label.setObjectName("stateLabel")
        self.model_label = ElidedLabel("Loading model…")
        self.model_label.setMaximumWidth(320)
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.model_label)
        self.zoom(self.store.zoom(), save=False)
        self.views.page_view.set_zoom(self.store.page_zoom())

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = RecentMenu(self.store, self.reopen_action, self)
        self.recent_menu.open_requested.connect(self.open_file)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.reopen_action)
        file_menu.addAction(self.paste_action)
        file_menu.addAction(self.close_action)
        file_menu.addAction(self.forget_action)
        self.recent_menu.fill(self.store.existing_recent_files())
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        for action in (self.copy_answer_action, self.copy_evidence_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        for action in (self.find_action, self.find_next_action, self.find_previous_action):
            edit_menu.addAction(action)
        view_menu = self.menuBar().addMenu("&View")
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        self.theme_menu = theme_menu(self, self.store)
        view_menu.addMenu(self.theme_menu)
        view_menu.addSeparator()
        view_menu.addAction(self.outline_action)
        view_menu.addAction(self.pages_action)
        view_menu.addAction(self.go_to_page_action)
        ask_menu = self.menuBar().addMenu("&Question")
        for action in (self.focus_question_action, self.ask_action, self.cancel_action, self.read_rest_action):
            ask_menu.addAction(action)
        ask_menu.addSeparator()
        ask_menu.addAction(self.next_action)
        ask_menu.addAction(self.previous_action)
        self.library.add_to_menus(file_menu, view_menu, ask_menu)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def _restore_state(self) -> None:
        geometry, splitter = self.store.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        self.fit_to_screen()
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([700, 500])

    def fit_to_screen(self) -> None:
        """Keep the window on its screen and no larger than it (restored or default, any scale)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        # The frame (title bar, borders) is outside the geometry; leave room for it.
        frame = self.frameGeometry().size() - self.geometry().size()
        room = QRect(available.topLeft(), available.size() - frame.expandedTo(QSize(0, 0)))
        wanted = self.geometry()
        if self.isMaximized() or self.isFullScreen():
            return
        fitted = fit_to_screen(wanted, room)
        if fitted != wanted:
            self.setGeometry(fitted)

    def _connect_controller(self) -> None:
        controller = self.controller
        controller.engine_loading.connect(lambda: self.model_label.set_full_text("Loading model…"))
        controller.engine_ready.connect(self._engine_ready)
        controller.engine_failed.connect(lambda message: self.model_label.set_full_text("No model"))
        controller.document_changed.connect(self._document_changed)
        controller.all_closed.connect(self._all_closed)
        controller.question_started.connect(self._question_started)
        controller.answers_changed.connect(self._show_prediction)
        controller.selection_changed.connect(self._select_answer)
        controller.progress_changed.connect(self._show_progress)
        controller.reading_plan_changed.connect(self.read_map.set_plan)
        controller.busy_changed.connect(self._set_busy)
        controller.status_changed.connect(self._show_status)
        controller.can_read_rest_changed.connect(self._can_read_rest)
        controller.note_changed.connect(self.answers.set_note)
        controller.recent_changed.connect(self.recent_menu.fill)
        controller.history_changed.connect(self.question.set_history)
        controller.error.connect(self._show_error)
        controller.password_needed.connect(self._ask_password)
        controller.opening_changed.connect(self._opening_changed)
        self.document_view.reader_moved.connect(controller.reader_moved)
        self.document_view.display_failed.connect(
            lambda message: self._show_error("This document cannot be shown", message)
        )

    # -- what the reader does -----------------------------------------------------------------

    def choose_file(self) -> None:
        patterns = " ".join(f"*{s}" for s in supported_suffixes())
        path, _ = QFileDialog.getOpenFileName(self, "Open a document", "", f"Documents ({patterns});;All files (*)")
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path, question: str | None = None, password: str | None = None) -> None:
        """Read a file in the background; ``question`` is asked once it is open."""
        if question:
            self.question.setText(question)
        if not path.exists():
            self._show_status(f"{path.name} is no longer there: it was moved or deleted.", 6000)
            self.recent_menu.fill(self.store.forget_recent_file(str(path.resolve())))
            return
        self.controller.open_file(path, question, password)

    def forget_document(self) -> None:
        """File > Forget This Document: its Recent entry, its place and, for a paste, its copy go."""
        path = self.controller.document_path
        if path is None:
            return
        self.recent_menu.forget(str(path.resolve()))
        self._show_status(f"{self.document.name} is forgotten: it is no longer in Recent, nor its place kept.", 5000)

    def reopen_last(self) -> None:
        """Ctrl+Shift+T: the last document before the one on screen."""
        self.recent_menu.fill(self.store.existing_recent_files())
        last = self.reopen_action.data()
        if last:
            self.open_file(Path(last))

    def paste_document(self) -> None:
        """File > New from Clipboard: the clipboard's text becomes the document."""
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self._show_status("The clipboard has no text to read.", 5000)
            return
        self.controller.open_text(text, "Pasted text")

    def paste(self) -> None:
        """Ctrl+V outside the question box."""
        focus = QGuiApplication.focusObject()
        if isinstance(focus, QLineEdit):
            focus.paste()
            return
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self._show_status("The clipboard has no text to paste.", 5000)
            return
        if self.document is None and not self.controller.working:
            self.controller.open_text(text, "Pasted text")
            return
        self._confirm_paste(text)

    def _confirm_paste(self, text: str) -> None:
        def into_question() -> None:
            self.question.setFocus()
            self.question.insert(" ".join(text.split()))

        name = self.document.name if self.document is not None else "the document being opened"
        ask_before_opening(self, text, name, lambda: self.controller.open_text(text, "Pasted text"), into_question)

    def ask(self) -> None:
        self.controller.ask(self.question.text())

    def cancel(self) -> None:
        self.controller.cancel()

    def focus_question(self) -> None:
        self.question.setFocus()
        self.question.selectAll()

    def _question_typed(self, text: str) -> None:
        if self.document is None and text.strip() and not self._told_to_open_first and not self.controller.working:
            self._told_to_open_first = True
            self._show_status("First open, drop or paste a document (Ctrl+O); then press Enter to ask.", 8000)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.controller.settings, self, self.store.reopens_last())
        if dialog.exec():
            self.store.save_reopens_last(dialog.reopens_last())
            self.controller.apply_settings(dialog.result_settings())

    def open_find(self) -> None:
        if self.document is None:
            self._show_status("Open a document first: there is nothing to find in yet.", 4000)
            return
        self.find_bar.open_bar()

    def zoom(self, steps: int | None, save: bool = True) -> None:
        """Ctrl+Plus and Ctrl+Minus: larger or smaller text (None: the default size), or pages when
        they are shown (None: the page's width fits); each remembered."""
        if self.views.shows_pages:
            pages = self.views.page_view
            self.store.save_page_zoom(pages.set_zoom(0 if steps is None else pages.zoom + steps))
            return
        target = 0 if steps is None else (self.document_view.zoom + steps if save else steps)
        zoom = self.document_view.set_zoom(target)
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, QFont().pointSizeF() + zoom * 0.75))
        self.answers.setFont(font)
        self.answers._fit_cards()
        if save:
            self.store.save_zoom(zoom)
            self._show_status(f"Text size {'+' if zoom > 0 else ''}{zoom}" if zoom else "Text at its usual size", 2000)

    def _opening_changed(self, path: Path | None) -> None:
        """A PDF's pages show while its text is read; if it does not open, what was shown returns.
        Opening can be stopped (Esc): a scan read by OCR takes seconds a page."""
        self.cancel_action.setEnabled(path is not None or self.controller.reading)
        self.cancel_button.setEnabled(self.cancel_action.isEnabled())
        if path is not None:
            if self.views.preview(path):
                self.pages.setCurrentWidget(self.document_pane)
        elif self.views.previewing:
            self.views.end_preview()
            if self.document is None:
                self.pages.setCurrentWidget(self.empty_state)

    def _ask_password(self, path: Path, wrong: bool, question: str | None) -> None:
        why = "That password is not right. " if wrong else ""
        password, given = QInputDialog.getText(
            self, "Password", f"{why}{path.name} is protected by a password:", QLineEdit.EchoMode.Password
        )
        if given:
            self.open_file(path, question, password)

    def show_shortcuts(self) -> None:
        rows = []
        for menu in self.menuBar().findChildren(QMenu):
            for action in menu.actions():
                keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
                if keys and not action.menu():
                    rows.append((action.text().replace("&", "").rstrip(".…"), keys))
        paste = QKeySequence(QKeySequence.StandardKey.Paste).toString(QKeySequence.SequenceFormat.NativeText)
        rows.append(("Paste (a new document from the empty window)", paste))
        dialog = ShortcutsDialog(rows, self)
        dialog.setObjectName("shortcutsDialog")
        dialog.open()

    def show_about(self) -> None:
        model = f"running on the {self.engine.device_name}" if self.engine is not None else ""
        dialog = AboutDialog(model, self, self.engine.model_dir if self.engine is not None else None)
        dialog.setObjectName("aboutDialog")
        dialog.open()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasText():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        folders = [f for f in files if f.is_dir()]
        if folders:  # a folder is a library of documents, not one to read
            self.library.add(folders)
        elif files:
            self.open_file(files[0])
        elif mime.hasText() and mime.text().strip():
            self.controller.open_text(mime.text(), "Dropped text")
        event.acceptProposedAction()

    # -- what the controller says -------------------------------------------------------------

    def _engine_ready(self, engine: ReadingEngine) -> None:
        self.model_label.set_full_text(f"Model: {engine.name} · {engine.device_name}")
        self.model_label.setToolTip(f"{engine.name} on {engine.device_name}\n{engine.model_dir}")

    def _locate(self, offset: int) -> str:
        if self.locator is None or self.locator.document is not self.document:
            self.locator = Locator(self.document)
        return self.locator(offset)

    def _document_changed(self, document: Document) -> None:
        self.places.showing(document.origin)
        path = self.controller.document_path
        self.forget_action.setEnabled(path is not None)
        self.recent_menu.set_open(str(path.resolve()) if path is not None else None)
        self.answers.reset()
        self.find_bar.close_bar() if self.find_bar.isVisible() else None
        self.document_view.show_document(document)
        self.read_map.set_plan(self.controller.read_plan)
        self.read_map.set_answers([])
        self.pages.setCurrentWidget(self.document_pane)
        self.setWindowTitle(f"{document.name} — Reading Assistant")
        if self.controller.question:  # another tab, shown again: its question with its answers
            self.question.setText(self.controller.question)
        self.question.setFocus()

    def _all_closed(self) -> None:
        self.places.showing(None)
        self.forget_action.setEnabled(False)
        self.recent_menu.set_open(None)
        self.answers.reset()
        self.pages.setCurrentWidget(self.empty_state)
        self.setWindowTitle("Reading Assistant")

    def _question_started(self, question: str) -> None:
        self.answers.reset()
        self.document_view.highlight([])
        self.read_map.set_plan([])
        self.read_map.set_answers([])

    def _show_prediction(self, prediction: Prediction) -> None:
        """List and highlight the answers; where the selection goes is the controller's call."""
        library = self.document.format == LIBRARY_FORMAT
        self.answers.show_prediction(prediction, self.document.text, self._locate, library)
        self.document_view.highlight(prediction.answers, guesses=not prediction.has_answer)
        self.read_map.set_answers([a.start for a in prediction.answers] if prediction.has_answer else [])
        self.read_map.set_read(prediction.windows)

    def _select_answer(self, row: int, reveal: bool) -> None:
        self.answers.select(row)
        answers = self.prediction.answers if self.prediction is not None else []
        if reveal:
            self.places.view_taken()  # the answer's place wins over the one the document opened at
        self.document_view.select_answer(answers[row] if 0 <= row < len(answers) else None, reveal)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.progress.setFormat(share_read(done, total, document_kind(self.document)))
        self.read_map.set_read(done)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.progress.setFormat(f"Reading the most relevant parts of the {document_kind(self.document)} first…")
        self.cancel_button.setEnabled(busy)
        self.cancel_action.setEnabled(busy)

    def _can_read_rest(self, possible: bool) -> None:
        self.read_rest_action.setEnabled(possible)
        prediction = self.prediction
        if not possible or prediction is None:
            self.answers.set_read_rest(False)
            return
        part = share(prediction.windows, prediction.total_windows)
        kind = document_kind(self.document)
        if self.controller.stopped_early:
            message = f"Reading stopped after the most relevant {part} of the {kind}, where no answer was found."
        else:
            message = f"These answers come from {part} of the {kind}, the most relevant parts."
        self.answers.set_read_rest(True, message)

    def _show_status(self, message: str, milliseconds: int = 0) -> None:
        """The state (``milliseconds`` 0) replaces the last one; a note shows over it for a while."""
        if milliseconds:
            self.statusBar().showMessage(message, milliseconds)
        else:
            self.statusBar().clearMessage()
            self.state_label.set_full_text(message)

    def _show_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        box.open()  # not exec(): the window keeps running behind it

    def status_text(self) -> str:
        """What the status bar shows now: a passing note, else the state."""
        return self.statusBar().currentMessage() or self.state_label.full_text()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True  # now the frame's size is known
            self.fit_to_screen()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.places.remember()
        self.document_view.shutdown()
        self.library.shutdown()
        self.controller.shutdown()
        self.store.save_window_state(self.saveGeometry(), self.splitter.saveState())
        super().closeEvent(event)
