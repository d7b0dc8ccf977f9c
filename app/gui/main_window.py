"""The main window: document on the left, question and answers on the right."""

from __future__ import annotations

import time
from dataclasses import replace
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
from reading_assistant.gui.document_view import DocumentView
from reading_assistant.gui.settings import EngineSettings, Store
from reading_assistant.gui.settings_dialog import SettingsDialog
from reading_assistant.gui.tasks import AskTask, LoadDocumentTask, LoadEngineTask, PrepareTask, Task

EMPTY_STATE = "Drop a document here, open one, or paste text"


def window_count(count: int) -> str:
    """'1 window', '16 windows', '1,569 windows'."""
    return "1 window" if count == 1 else f"{count:,} windows"


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
    def __init__(self, store: Store | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Reading Assistant")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.store = store or Store()
        self.pool = pool or QThreadPool.globalInstance()
        self.settings: EngineSettings = self.store.engine_settings()
        self.engine: QAEngine | None = None
        self.document: Document | None = None
        self.prediction: Prediction | None = None
        self._job = 0
        self._running: dict[str, Task] = {}
        self._pending_question: str | None = None
        self._started = 0.0

        self._build_actions()
        self._build_layout()
        self._build_menus()
        self._restore_state()
        self.load_engine()

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

    # -- the model ----------------------------------------------------------------------------

    def load_engine(self) -> None:
        self.engine = None
        self.model_label.setText("Loading model…")
        task = LoadEngineTask(
            self._next_job(), self.settings.resolved_model_dir(), self.settings.device, self.settings.doc_stride
        )
        task.signals.finished.connect(self._engine_loaded)
        task.signals.failed.connect(self._engine_failed)
        self._start("engine", task)

    def _engine_loaded(self, job: int, engine: QAEngine) -> None:
        if not self._current("engine", job):
            return
        self.engine = engine
        self.statusBar().clearMessage()  # "Waiting for the model to load…" is over
        self.model_label.setText(f"Model: {engine.name} · {engine.device_name}")
        self.model_label.setToolTip(str(engine.folder.path))
        for warning in engine.model.warnings:
            self.statusBar().showMessage(warning, 10000)
        self._prepare_document()
        if self._pending_question:
            self.ask()

    def _prepare_document(self) -> None:
        if self.engine is not None and self.document is not None:
            self._start("prepare", PrepareTask(self._next_job(), self.engine, self.document.text))

    def _engine_failed(self, job: int, message: str) -> None:
        if not self._current("engine", job):
            return
        self.model_label.setText("No model")
        self._pending_question = None
        self.statusBar().clearMessage()
        self._show_error("The model could not be loaded", f"{message}\n\nChoose a model folder in Settings.")

    # -- documents ----------------------------------------------------------------------------

    def choose_file(self) -> None:
        patterns = " ".join(f"*{s}" for s in supported_suffixes())
        path, _ = QFileDialog.getOpenFileName(self, "Open a document", "", f"Documents ({patterns});;All files (*)")
        if path:
            self.open_file(Path(path))

    def open_file(self, path: Path, question: str | None = None) -> None:
        """Read a file in the background; ``question`` is asked once it is open."""
        self.statusBar().showMessage(f"Opening {path.name}…")
        self._pending_question = question
        task = LoadDocumentTask(self._next_job(), path)
        task.signals.finished.connect(lambda job, document: self._document_loaded(job, document, path))
        task.signals.failed.connect(self._document_failed)
        self._start("document", task)

    def _document_loaded(self, job: int, document: Document, path: Path | None) -> None:
        if not self._current("document", job):
            return
        self.set_document(document)
        if path is not None:
            self._fill_recent_menu(self.store.add_recent_file(path))
        if self._pending_question:
            self.question.setText(self._pending_question)
            self.ask()

    def _document_failed(self, job: int, message: str) -> None:
        if self._current("document", job):
            self.statusBar().clearMessage()
            self._pending_question = None
            self._show_error("This document cannot be opened", message)

    def paste_document(self) -> None:
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self.statusBar().showMessage("The clipboard has no text to read.", 5000)
            return
        self.set_document(Document(text=text, name="Pasted text", format="text"))

    def set_document(self, document: Document) -> None:
        self.cancel()
        self.document = document
        self.prediction = None
        self.answers.clear()
        self.document_view.show_text(document.text)
        self.pages.setCurrentWidget(self.document_view)
        self.setWindowTitle(f"{document.name} — Reading Assistant")
        self._prepare_document()
        words = len(document.text.split())
        self.statusBar().showMessage(f"{document.name}: {words:,} words", 5000)
        self.question.setFocus()

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
            self.set_document(Document(text=mime.text(), name="Dropped text", format="text"))
        event.acceptProposedAction()

    # -- asking -------------------------------------------------------------------------------

    def ask(self) -> None:
        question = self.question.text().strip()
        if not question:
            self.statusBar().showMessage("Type a question first.", 4000)
            return
        if self.document is None:
            self.statusBar().showMessage("Open, drop or paste a document first.", 4000)
            return
        if self.engine is None:
            self._pending_question = question
            self.statusBar().showMessage("Waiting for the model to load…")
            return
        self._pending_question = None
        self.cancel()
        self.question.remember(question)
        self.answers.clear()
        self.document_view.highlight([])
        # The most relevant passages are read first, so a long book shows answers within a second.
        options = replace(
            self.engine.default_options(),
            top_k=self.settings.top_k,
            max_answer_len=self.settings.max_answer_len,
            ranked=True,
        )
        self.prediction = None
        task = AskTask(self._next_job(), self.engine, self.document.text, question, options)
        task.signals.progress.connect(self._ask_progress)
        task.signals.partial.connect(self._ask_partial)
        task.signals.finished.connect(self._ask_finished)
        task.signals.failed.connect(self._ask_failed)
        task.signals.cancelled.connect(self._ask_cancelled)
        self._started = time.perf_counter()
        self._set_busy(True)
        self._start("ask", task)

    def cancel(self) -> None:
        """Stop the running question within one batch; answers found so far stay on screen."""
        task = self._running.pop("ask", None)
        if task is not None:
            task.stop_requested.set()
            self._set_busy(False)
            if self.prediction is not None:
                self.statusBar().showMessage(
                    f"Stopped early: the answers come from {window_count(self.prediction.windows)} read, "
                    "the most relevant first.",
                    8000,
                )
            else:
                self.statusBar().showMessage("Cancelled.", 3000)

    def _ask_progress(self, job: int, done: int, total: int) -> None:
        if self._current("ask", job):
            self.progress.setMaximum(total)
            self.progress.setValue(done)

    def _ask_partial(self, job: int, prediction: Prediction) -> None:
        if self._current("ask", job):
            first = self.prediction is None
            self._show_prediction(prediction, reveal=first)
            if first:
                seconds = time.perf_counter() - self._started
                self.time_label.setText(f"First answers in {seconds:.2f} s, reading on…")

    def _ask_finished(self, job: int, prediction: Prediction) -> None:
        if not self._current("ask", job):
            return
        self._running.pop("ask", None)
        self._set_busy(False)
        self._show_prediction(prediction, reveal=True)
        seconds = time.perf_counter() - self._started
        self.time_label.setText(f"Answered in {seconds:.2f} s ({window_count(prediction.windows)})")

    def _show_prediction(self, prediction: Prediction, reveal: bool) -> None:
        """List and highlight the answers; ``reveal`` scrolls to and selects the best one."""
        selected = self.answers.list.currentRow()
        self.prediction = prediction
        self.answers.show_prediction(prediction, self.document.text, self.document.location)
        self.document_view.highlight(prediction.answers)
        if prediction.answers and reveal:
            self.answers.select(0)
        elif prediction.answers and selected >= 0:
            # Keep the reader's place: re-select without scrolling the document again.
            self.answers.list.blockSignals(True)
            self.answers.select(selected)
            self.answers.list.blockSignals(False)

    def _ask_failed(self, job: int, message: str) -> None:
        if self._current("ask", job):
            self._running.pop("ask", None)
            self._set_busy(False)
            self._show_error("The question could not be answered", message)

    def _ask_cancelled(self, job: int) -> None:
        if self._current("ask", job):
            self._running.pop("ask", None)
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(busy)
        self.cancel_action.setEnabled(busy)

    def _reveal_answer(self, index: int) -> None:
        if self.prediction is not None and index < len(self.prediction.answers):
            self.document_view.reveal(self.prediction.answers[index])

    # -- settings -----------------------------------------------------------------------------

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            old = self.settings
            self.settings = dialog.result_settings()
            self.store.save_engine_settings(self.settings)
            engine_keys = (old.model_dir, old.device, old.doc_stride)
            if engine_keys != (self.settings.model_dir, self.settings.device, self.settings.doc_stride):
                self.load_engine()

    # -- plumbing -----------------------------------------------------------------------------

    def _next_job(self) -> int:
        self._job += 1
        return self._job

    def _start(self, kind: str, task: Task) -> None:
        self._running[kind] = task
        self.pool.start(task)

    def _current(self, kind: str, job: int) -> bool:
        task = self._running.get(kind)
        if task is None or task.job != job:
            return False
        if kind != "ask":
            del self._running[kind]
        return True

    def _show_error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        box.open()  # not exec(): the window keeps running behind it

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel()
        self.store.save_window_state(self.saveGeometry(), self.splitter.saveState())
        super().closeEvent(event)
