"""Work that must not freeze the window: loading the model, reading files and answering.

Each task runs on Qt's global thread pool and reports through signals, which Qt delivers in the
GUI thread. A task carries a job number so the window can ignore a stale result.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from reading_assistant.core.documents import Document, load_document
from reading_assistant.core.engine import AskOptions, Prediction, QAEngine
from reading_assistant.core.errors import Cancelled, ReadingAssistantError
from reading_assistant.core.model_folder import ModelFolder


class TaskSignals(QObject):
    progress = Signal(int, int, int)  # job, done, total
    partial = Signal(int, object)  # job, best answers so far
    finished = Signal(int, object)  # job, result
    failed = Signal(int, str)  # job, message
    cancelled = Signal(int)


class Task(QRunnable):
    """Runs ``work`` and turns every outcome into a signal; no exception escapes the thread."""

    def __init__(self, job: int) -> None:
        super().__init__()
        # Python owns the task, so the window can still read it after the pool is done with it.
        self.setAutoDelete(False)
        self.job = job
        self.signals = TaskSignals()
        self.stop_requested = threading.Event()

    def work(self) -> object:
        raise NotImplementedError

    def run(self) -> None:
        try:
            result = self.work()
        except Cancelled:
            self.signals.cancelled.emit(self.job)
        except ReadingAssistantError as error:
            self.signals.failed.emit(self.job, str(error))
        except Exception as error:  # a bug must still not take the window down
            self.signals.failed.emit(self.job, f"Unexpected error: {error}")
        else:
            self.signals.finished.emit(self.job, result)


class LoadEngineTask(Task):
    def __init__(self, job: int, model_dir: Path, device: str, doc_stride: int) -> None:
        super().__init__(job)
        self.model_dir, self.device, self.doc_stride = model_dir, device, doc_stride

    def work(self) -> QAEngine:
        folder = ModelFolder.open(self.model_dir)
        settings = folder.config.window_settings()
        if self.doc_stride:
            settings = replace(settings, doc_stride=self.doc_stride)
        return QAEngine(folder, device=self.device, settings=settings)


class LoadDocumentTask(Task):
    def __init__(self, job: int, path: Path) -> None:
        super().__init__(job)
        self.path = path

    def work(self) -> Document:
        return load_document(self.path)


class PrepareTask(Task):
    """Tokenize and index a document ahead of the first question (the engine caches both)."""

    def __init__(self, job: int, engine: QAEngine, text: str) -> None:
        super().__init__(job)
        self.engine, self.text = engine, text

    def work(self) -> None:
        self.engine.term_index(self.engine.tokenize_document(self.text))


class AskTask(Task):
    def __init__(self, job: int, engine: QAEngine, text: str, question: str, options: AskOptions) -> None:
        super().__init__(job)
        self.engine, self.text, self.question, self.options = engine, text, question, options

    def work(self) -> Prediction:
        return self.engine.ask(
            self.engine.tokenize_document(self.text),
            self.question,
            self.options,
            on_progress=lambda done, total: self.signals.progress.emit(self.job, done, total),
            should_stop=self.stop_requested.is_set,
            on_partial=lambda prediction: self.signals.partial.emit(self.job, prediction),
        )
