"""What the window shows, decided without widgets: the engine, the document, the question and its answers.

The controller owns the model's life, the open document, the running jobs and the current
answers, and says what changed through signals; ``MainWindow`` only builds widgets and connects
them. It is tested with a fake engine (tests/test_controller.py), fast and without a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal

from reading_assistant.core.documents import Document, load_document, text_document
from reading_assistant.core.engine import Prediction, QAEngine, open_engine
from reading_assistant.core.errors import ReadingAssistantError
from reading_assistant.gui.settings import EngineSettings, Store
from reading_assistant.gui.tasks import AskTask, CallTask, Task

EngineOpener = Callable[[EngineSettings], QAEngine]
WAITING_FOR_MODEL = "Waiting for the model to load…"


def open_engine_for(settings: EngineSettings) -> QAEngine:
    return open_engine(settings.resolved_model_dir(), settings.device, settings.choices())


def window_count(count: int) -> str:
    """'1 window', '16 windows', '1,569 windows'."""
    return "1 window" if count == 1 else f"{count:,} windows"


class Job(Enum):
    ENGINE = "engine"
    DOCUMENT = "document"
    PREPARE = "prepare"
    ASK = "ask"


class ReadingController(QObject):
    engine_loading = Signal()
    engine_ready = Signal(object)  # the engine
    engine_failed = Signal(str)  # why
    document_changed = Signal(object)  # Document
    question_started = Signal(str)  # the question being read: old answers are gone
    answers_changed = Signal(object, bool)  # Prediction, whether to bring the best answer into view
    progress_changed = Signal(int, int)  # windows read, windows to read
    busy_changed = Signal(bool)
    status_changed = Signal(str, int)  # message ("" clears), milliseconds to show it (0: until replaced)
    timing_changed = Signal(str)
    recent_changed = Signal(list)  # recent files, newest first
    error = Signal(str, str)  # title, message: something the reader must see

    def __init__(self, store: Store, pool: QThreadPool | None = None, opener: EngineOpener = open_engine_for) -> None:
        super().__init__()
        self.store = store
        self.pool = pool or QThreadPool.globalInstance()
        self.opener = opener
        self.settings = store.engine_settings()
        self.engine: QAEngine | None = None
        self.document: Document | None = None
        self.prediction: Prediction | None = None
        self.question = ""
        self._pending_question: str | None = None
        self._jobs: dict[Job, Task] = {}
        # Every task until it ends, current or not: a task dropped while its thread runs would be
        # freed under it.
        self._alive: set[Task] = set()
        self._last_job = 0
        self._started = 0.0

    # -- the model ----------------------------------------------------------------------------

    def load_engine(self) -> None:
        self.engine = None
        self.engine_loading.emit()
        settings = self.settings
        task = CallTask(self._next_job(), lambda: self.opener(settings))
        task.signals.finished.connect(self._engine_loaded)
        task.signals.failed.connect(self._engine_failed)
        self._start(Job.ENGINE, task)

    def apply_settings(self, settings: EngineSettings) -> None:
        if settings == self.settings:
            return
        self.settings = settings
        self.store.save_engine_settings(settings)
        self.cancel()
        self.load_engine()

    def _engine_loaded(self, job: int, engine: QAEngine) -> None:
        if not self._finish(Job.ENGINE, job):
            return
        self.engine = engine
        self.engine_ready.emit(engine)
        self._status("")  # "Waiting for the model to load…" is over
        for warning in engine.warnings:
            self._status(warning, 10000)
        self._prepare_document()
        if self._pending_question:
            self.ask(self._pending_question)

    def _engine_failed(self, job: int, message: str) -> None:
        if not self._finish(Job.ENGINE, job):
            return
        self._pending_question = None
        self._status("")
        self.engine_failed.emit(message)
        self.error.emit("The model could not be loaded", f"{message}\n\nChoose a model folder in Settings.")

    # -- documents ----------------------------------------------------------------------------

    def open_file(self, path: Path, question: str | None = None) -> None:
        """Read a file in the background; ``question`` is asked once it is open."""
        self._status(f"Opening {path.name}…")
        self._pending_question = question
        task = CallTask(self._next_job(), lambda: load_document(path))
        task.signals.finished.connect(lambda job, document: self._document_loaded(job, document, path))
        task.signals.failed.connect(self._document_failed)
        self._start(Job.DOCUMENT, task)

    def open_text(self, text: str, name: str) -> bool:
        """Pasted or dropped text, under the same rules as a file; False if it was refused."""
        try:
            document = text_document(text, name)
        except ReadingAssistantError as error:
            self._status(str(error), 5000)
            return False
        self.set_document(document)
        return True

    def set_document(self, document: Document) -> None:
        self.cancel()
        self.document = document
        self.prediction = None
        self.document_changed.emit(document)
        self._prepare_document()
        words = len(document.text.split())
        self._status(f"{document.name}: {words:,} {'word' if words == 1 else 'words'}", 5000)

    def _document_loaded(self, job: int, document: Document, path: Path) -> None:
        if not self._finish(Job.DOCUMENT, job):
            return
        self.set_document(document)
        self.recent_changed.emit(self.store.add_recent_file(path))
        if self._pending_question:
            self.ask(self._pending_question)

    def _document_failed(self, job: int, message: str) -> None:
        if self._finish(Job.DOCUMENT, job):
            self._status("")
            self._pending_question = None
            self.error.emit("This document cannot be opened", message)

    def _prepare_document(self) -> None:
        """Tokenize and index the document ahead of the first question (the engine caches both)."""
        if self.engine is not None and self.document is not None:
            engine, text = self.engine, self.document.text
            self._start(Job.PREPARE, CallTask(self._next_job(), lambda: engine.prepare(text)))

    # -- asking -------------------------------------------------------------------------------

    def ask(self, question: str) -> None:
        question = question.strip()
        if not question:
            self._status("Type a question first.", 4000)
            return
        if self.document is None:
            self._status("Open, drop or paste a document first.", 4000)
            return
        if self.engine is None:
            self._pending_question = question
            self._status(WAITING_FOR_MODEL)
            return
        self._pending_question = None
        self._stop_reading()
        self.question = question
        self.prediction = None
        self._status("")
        self.timing_changed.emit("")
        self.question_started.emit(question)
        task = AskTask(self._next_job(), self.engine, self.document.text, question)
        task.signals.progress.connect(self._ask_progress)
        task.signals.partial.connect(self._ask_partial)
        task.signals.finished.connect(self._ask_finished)
        task.signals.failed.connect(self._ask_failed)
        task.signals.cancelled.connect(self._ask_cancelled)
        self._started = time.perf_counter()
        self._start(Job.ASK, task)
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        """Stop the running question within one batch; answers found so far stay on screen."""
        if not self._stop_reading():
            return
        if self.prediction is not None:
            self._status(
                f"Stopped early: the answers come from {window_count(self.prediction.windows)} read, "
                "the most relevant first.",
                8000,
            )
        else:
            self._status("Cancelled.", 3000)

    def shutdown(self) -> None:
        """The window is closing: stop everything and let no late signal reach it."""
        self._pending_question = None
        self._jobs.clear()
        for task in self._alive:
            task.stop_requested.set()
            task.signals.blockSignals(True)

    def _stop_reading(self) -> bool:
        task = self._jobs.pop(Job.ASK, None)
        if task is None:
            return False
        task.stop_requested.set()
        self.busy_changed.emit(False)
        return True

    def _ask_progress(self, job: int, done: int, total: int) -> None:
        if self._is_current(Job.ASK, job):
            self.progress_changed.emit(done, total)

    def _ask_partial(self, job: int, prediction: Prediction) -> None:
        if self._is_current(Job.ASK, job):
            first = self.prediction is None
            self.prediction = prediction
            self.answers_changed.emit(prediction, first)
            if first:
                seconds = time.perf_counter() - self._started
                self.timing_changed.emit(f"First answers in {seconds:.2f} s, reading on…")

    def _ask_finished(self, job: int, prediction: Prediction) -> None:
        if not self._finish(Job.ASK, job):
            return
        first = self.prediction is None
        self.prediction = prediction
        self.busy_changed.emit(False)
        self.answers_changed.emit(prediction, first)
        seconds = time.perf_counter() - self._started
        self.timing_changed.emit(f"Answered in {seconds:.2f} s ({window_count(prediction.windows)})")

    def _ask_failed(self, job: int, message: str) -> None:
        if self._finish(Job.ASK, job):
            self.busy_changed.emit(False)
            self.error.emit("The question could not be answered", message)

    def _ask_cancelled(self, job: int) -> None:
        if self._finish(Job.ASK, job):
            self.busy_changed.emit(False)

    # -- plumbing -----------------------------------------------------------------------------

    def _status(self, message: str, milliseconds: int = 0) -> None:
        self.status_changed.emit(message, milliseconds)

    def _next_job(self) -> int:
        self._last_job += 1
        return self._last_job

    def _start(self, kind: Job, task: Task) -> None:
        old = self._jobs.get(kind)
        if old is not None:
            old.stop_requested.set()
        self._jobs[kind] = task
        self._alive.add(task)
        for ended in (task.signals.finished, task.signals.failed, task.signals.cancelled):
            ended.connect(lambda *_, task=task: self._alive.discard(task))
        self.pool.start(task)

    def _is_current(self, kind: Job, job: int) -> bool:
        task = self._jobs.get(kind)
        return task is not None and task.job == job

    def _finish(self, kind: Job, job: int) -> bool:
        """True, and the job is over, if ``job`` is still the current one of its kind."""
        if not self._is_current(kind, job):
            return False
        del self._jobs[kind]
        return True

    @property
    def reading(self) -> bool:
        """A question is being read."""
        return Job.ASK in self._jobs

    @property
    def working(self) -> bool:
        """A question is being read or a file opened: what the reader waits for."""
        return Job.ASK in self._jobs or Job.DOCUMENT in self._jobs
