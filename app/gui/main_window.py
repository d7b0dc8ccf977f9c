"""The main window: document on the left, question and answers on the right."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QThreadPool
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from reading_assistant.core.documents import Document, supported_suffixes
from reading_assistant.core.engine import Prediction, QAEngine
from reading_assistant.core.paths import resource_path
from reading_assistant.gui.answers_panel import AnswersPanel
from reading_assistant.gui.controller import EngineOpener, ReadingController, open_engine_for
from reading_assistant.gui.document_view import DocumentView
from reading_assistant.gui.settings import Store
from reading_assistant.gui.settings_dialog import SettingsDialog

EMPTY_STATE = "Drop a document here, open one, or paste text"


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "reading-assistant.svg")))


class EmptyState(QWidget):
    """What a new window shows: how to bring a document."""

    def __init__(self, open_file: QAction, paste: QAction) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel(f"<h2>{EMPTY_STATE}</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        formats = ", ".join(s.lstrip(".") for s in supported_suffixes())
        hint = QLabel(f"Then ask a question on the right. Reads {formats}. Nothing leaves this computer.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for action in (open_file, paste):
            button = QPushButton(action.icon(), action.text().replace("&", "").rstrip("."))
            button.clicked.connect(action.trigger)
            buttons.addWidget(button)
        buttons.addStretch(1)
        for widget in (icon, title, hint):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addStretch(3)


class QuestionBox(QLineEdit):
    """Enter asks; Up and Down recall earlier questions."""

    def __init__(self) -> None:
        super().__init__()
        self.setPlaceholderText("Ask a question about the document…")
        self.setClearButtonEnabled(True)
        self.history: list[str] = []
        self._recall = 0

    def remember(self, question: str) -> None:
        if question and (not self.history or self.history[-1] != question):
            self.history.append(question)
        self._recall = len(self.history)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.history:
            step = -1 if event.key() == Qt.Key.Key_Up else 1
            self._recall = max(0, min(len(self.history), self._recall + step))
            self.setText(self.history[self._recall] if self._recall < len(self.history) else "")
            return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    """Builds the widgets and connects them to the controller, which decides what they show."""

    def __init__(
        self, store: Store | None = None, pool: QThreadPool | None = None, opener: EngineOpener = open_engine_for
    ) -> None:
        super().__init__()
        self.setWindowTitle("Reading Assistant")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.store = store or Store()
        self.controller = ReadingController(self.store, pool, opener)

        self._build_actions()
        self._build_layout()
        self._build_menus()
        self._connect_controller()
        self._restore_state()
        self.controller.load_engine()

    # -- what the controller holds ------------------------------------------------------------

    @property
    def engine(self) -> QAEngine | None:
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
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.open_action = self._action(
            "&Open…", QKeySequence.StandardKey.Open, self.choose_file, sp.SP_DialogOpenButton
        )
        self.paste_action = self._action(
            "&New from Clipboard", QKeySequence.StandardKey.Paste, self.paste_document, sp.SP_FileIcon
        )
        self.settings_action = self._action("&Settings…", "Ctrl+,", self.open_settings)
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.next_action = self._action("&Next Answer", "F3", lambda: self.answers.step(1))
        self.previous_action = self._action("&Previous Answer", "Shift+F3", lambda: self.answers.step(-1))
        self.ask_action = self._action("&Ask", None, self.ask, sp.SP_MediaPlay)
        self.cancel_action = self._action("&Cancel", "Esc", self.cancel, sp.SP_MediaStop)
        self.cancel_action.setEnabled(False)
        self.focus_question_action = self._action("Ask a &Question", "Ctrl+L", lambda: self.question.setFocus())

    def _build_layout(self) -> None:
        self.document_view = DocumentView()
        self.empty_state = EmptyState(self.open_action, self.paste_action)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_state)
        self.pages.addWidget(self.document_view)

        self.question = QuestionBox()
        self.question.returnPressed.connect(self.ask)
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
        self.progress.setFormat("%v / %m windows")
        self.progress.setVisible(False)
        self.answers = AnswersPanel()
        self.answers.answer_chosen.connect(self._reveal_answer)
        heading = QLabel("<b>Question</b>")
        answers_heading = QLabel("<b>Answers</b>")
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(heading)
        side_layout.addLayout(row)
        side_layout.addWidget(self.progress)
        side_layout.addWidget(answers_heading)
        side_layout.addWidget(self.answers, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.model_label = QLabel("Loading model…")
        self.time_label = QLabel("")
        self.statusBar().addPermanentWidget(self.time_label)
        self.statusBar().addPermanentWidget(self.model_label)
        # Ctrl+V belongs to the question box while it has focus.
        self.question.installEventFilter(self)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.paste_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._fill_recent_menu(self.store.recent_files())
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        ask_menu = self.menuBar().addMenu("&Question")
        for action in (self.focus_question_action, self.ask_action, self.cancel_action):
            ask_menu.addAction(action)
        ask_menu.addSeparator()
        ask_menu.addAction(self.next_action)
        ask_menu.addAction(self.previous_action)

    def _fill_recent_menu(self, files: list[str]) -> None:
        self.recent_menu.clear()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_file(Path(p)))
        self.recent_menu.setEnabled(bool(files))

    def _restore_state(self) -> None:
        geometry, splitter = self.store.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([700, 500])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.question
            and event.type() == QEvent.Type.ShortcutOverride
            and event.matches(QKeySequence.StandardKey.Paste)
        ):
            event.accept()  # the line edit pastes the question itself
            return True
        return super().eventFilter(watched, event)

    def _connect_controller(self) -> None:
        controller = self.controller
        controller.engine_loading.connect(lambda: self.model_label.setText("Loading model…"))
        controller.engine_ready.connect(self._engine_ready)
        controller.engine_failed.connect(lambda message: self.model_label.setText("No model"))
        controller.document_changed.connect(self._document_changed)
        controller.question_started.connect(self._question_started)
        controller.answers_changed.connect(self._show_prediction)
        controller.progress_changed.connect(self._show_progress)
        controller.busy_changed.connect(self._set_busy)
        controller.status_changed.connect(self._show_status)
        controller.timing_changed.connect(self.time_label.setText)
        controller.recent_changed.connect(self._fill_recent_menu)
        controller.error.connect(self._show_error)

    # -- what the reader does -----------------------------------------------------------------

    def choose_file(self) -> None:
        patterns = " ".join(f"*{s}" for s in supported_suffixes())
        path, _ = QFileDialog.getOpenFileName(self, "Open a document", "", f"Documents ({patterns});;All files (*)")
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path, question: str | None = None) -> None:
        """Read a file in the background; ``question`` is asked once it is open."""
        if question:
            self.question.setText(question)
        self.controller.open_file(path, question)

    def paste_document(self) -> None:
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self._show_status("The clipboard has no text to read.", 5000)
            return
        self.controller.open_text(text, "Pasted text")

    def ask(self) -> None:
        self.controller.ask(self.question.text())

    def cancel(self) -> None:
        self.controller.cancel()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.controller.settings, self)
        if dialog.exec():
            self.controller.apply_settings(dialog.result_settings())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasText():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if files:
            self.open_file(files[0])
        elif mime.hasText() and mime.text().strip():
            self.controller.open_text(mime.text(), "Dropped text")
        event.acceptProposedAction()

    # -- what the controller says -------------------------------------------------------------

    def _engine_ready(self, engine: QAEngine) -> None:
        self.model_label.setText(f"Model: {engine.name} · {engine.device_name}")
        self.model_label.setToolTip(str(engine.folder.path))

    def _document_changed(self, document: Document) -> None:
        self.answers.clear()
        self.document_view.show_text(document.text)
        self.pages.setCurrentWidget(self.document_view)
        self.setWindowTitle(f"{document.name} — Reading Assistant")
        self.question.setFocus()

    def _question_started(self, question: str) -> None:
        self.question.remember(question)
        self.answers.clear()
        self.document_view.highlight([])

    def _show_prediction(self, prediction: Prediction, reveal: bool) -> None:
        """List and highlight the answers; ``reveal`` scrolls to and selects the best one."""
        selected = self.answers.list.currentRow()
        self.answers.show_prediction(prediction, self.document.text, self.document.location)
        self.document_view.highlight(prediction.answers)
        if prediction.answers and reveal:
            self.answers.select(0)
        elif prediction.answers and selected >= 0:
            # Keep the reader's place: re-select without scrolling the document again.
            self.answers.list.blockSignals(True)
            self.answers.select(selected)
            self.answers.list.blockSignals(False)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(busy)
        self.cancel_action.setEnabled(busy)

    def _show_status(self, message: str, milliseconds: int = 0) -> None:
        if message:
            self.statusBar().showMessage(message, milliseconds)
        else:
            self.statusBar().clearMessage()

    def _reveal_answer(self, index: int) -> None:
        if self.prediction is not None and index < len(self.prediction.answers):
            self.document_view.reveal(self.prediction.answers[index])

    def _show_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        box.open()  # not exec(): the window keeps running behind it

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.shutdown()
        self.store.save_window_state(self.saveGeometry(), self.splitter.saveState())
        super().closeEvent(event)
