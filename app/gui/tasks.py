"""Work that must not freeze the window: opening the model, reading files and answering.

Each task runs on a Qt thread pool and reports through signals, which Qt delivers in the GUI
thread. A task carries a job number so the controller can ignore a stale result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Signal

from reading_assistant.core.engine import Prediction, QAEngine
from reading_assistant.core.errors import Cancelled, ReadingAssistantError

log = logging.getLogger("reading_assistant.gui")


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
        # Python owns the task, so the controller can still read it after the pool is done with it.
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
        except MemoryError:
            self.signals.failed.emit(self.job, "The computer ran out of memory for this.")
        except Exception as error:  # a bug must still not take the window down
            log.exception("unexpected error in %s", type(self).__name__)
            self.signals.failed.emit(self.job, f"Unexpected error: {error or type(error).__name__}")
        else:
            self.signals.finished.emit(self.job, result)


class CallTask(Task):
    """Runs one function: opening the model, reading a file, or preparing a document."""

    def __init__(self, job: int, call: Callable[[], object]) -> None:
        super().__init__(job)
        self.call = call

    def work(self) -> object:
        return self.call()


class AskTask(Task):
    def __init__(self, job: int, engine: QAEngine, text: str, question: str) -> None:
        super().__init__(job)
        self.engine, self.text, self.question = engine, text, question

    def work(self) -> Prediction:
        return self.engine.ask(
            self.text,
            self.question,
            on_progress=lambda done, total: self.signals.progress.emit(self.job, done, total),
            should_stop=self.stop_requested.is_set,
            on_partial=lambda prediction: self.signals.partial.emit(self.job, prediction),
        )
