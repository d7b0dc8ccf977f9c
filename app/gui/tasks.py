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
from reading_assistant.gui.read_map import reading_spans

log = logging.getLogger("reading_assistant.gui")


class TaskSignals(QObject):
    progress = Signal(int, int, int)  # job, done, total
    partial = Signal(int, object)  # job, best answers so far
    plan = Signal(int, object)  # job, the windows' character spans in reading order
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

    def emit(self, signal_name: str, *args: object) -> None:
        """Send a signal unless the window is gone: a task still running at quit must stay silent."""
        try:
            getattr(self.signals, signal_name).emit(self.job, *args)
        except RuntimeError:  # "Signal source has been deleted": the app is quitting
            if not self.stop_requested.is_set():
                raise

    def run(self) -> None:
        try:
            result = self.work()
        except Cancelled:
            self.emit("cancelled")
        except ReadingAssistantError as error:
            self.emit("failed", str(error))
        except MemoryError:
            self.emit("failed", "The computer ran out of memory for this.")
        except Exception as error:  # a bug must still not take the window down
            log.exception("unexpected error in %s", type(self).__name__)
            self.emit("failed", f"Unexpected error: {error or type(error).__name__}")
        else:
            self.emit("finished", result)


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
        spans = reading_spans(self.engine, self.text, self.question)
        if spans is not None:
            self.emit("plan", spans)
        return self.engine.ask(
            self.text,
            self.question,
            on_progress=lambda done, total: self.emit("progress", done, total),
            should_stop=self.stop_requested.is_set,
            on_partial=lambda prediction: self.emit("partial", prediction),
        )
