"""Work that must not freeze the window: opening the model, reading files and answering.

Each task runs on a Qt thread pool and reports through signals, which Qt delivers in the GUI
thread. A task carries a job number so the controller can ignore a stale result.

A task never lets an exception out of its thread, and never fails because the window is gone: a
signal whose source or receivers were deleted (the window closed, or a script ended without
closing it) only tells the task to stop. At interpreter exit every running task is asked to stop
and waited for a little, so no thread runs Python code while the interpreter is torn down.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Signal

from ..core.engine import Prediction, QAEngine
from ..core.errors import Cancelled, ReadingAssistantError
from .read_map import reading_spans

log = logging.getLogger(__name__)

OUT_OF_MEMORY = "The computer ran out of memory for this. Close other programs or try a smaller document."
# How long the interpreter waits at exit for running tasks to stop (each stops within one batch).
EXIT_WAIT_S = 3.0

_running: set[Task] = set()
_running_lock = threading.Lock()


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
        self.done = threading.Event()

    def work(self) -> object:
        raise NotImplementedError

    def emit(self, signal_name: str, *args: object) -> None:
        """Send a signal; if the window's side is gone, stop instead (nobody is left to tell)."""
        try:
            getattr(self.signals, signal_name).emit(self.job, *args)
        except RuntimeError:  # "Signal source has been deleted" (or its receiver): the window is gone
            log.debug("%s: %s not sent, the window is gone", type(self).__name__, signal_name)
            self.stop_requested.set()

    def run(self) -> None:
        with _running_lock:
            _running.add(self)
        try:
            self._run()
        finally:
            with _running_lock:
                _running.discard(self)
            self.done.set()

    def _run(self) -> None:
        # The outcome is sent after the ``except`` block, so a MemoryError's frames (and whatever
        # they held) are freed before the window is told.
        outcome: tuple[str, tuple[object, ...]]
        try:
            result = self.work()
        except Cancelled:
            outcome = ("cancelled", ())
        except ReadingAssistantError as error:
            outcome = ("failed", (str(error),))
        except MemoryError:
            log.warning("%s ran out of memory", type(self).__name__)
            outcome = ("failed", (OUT_OF_MEMORY,))
        except Exception as error:  # a bug must still not take the window down
            log.exception("unexpected error in %s", type(self).__name__)
            outcome = ("failed", (f"Unexpected error: {error or type(error).__name__}",))
        else:
            outcome = ("finished", (result,))
            result = None
        self.emit(outcome[0], *outcome[1])


class CallTask(Task):
    """Runs one function: opening the model, reading a file, or preparing a document.

    ``call`` may take the task's stop flag (``stoppable=True``): it should raise ``Cancelled`` soon
    after ``stop_requested`` is set.
    """

    def __init__(self, job: int, call: Callable[..., object], stoppable: bool = False) -> None:
        super().__init__(job)
        self.call = call
        self.stoppable = stoppable

    def work(self) -> object:
        return self.call(self.stop_requested.is_set) if self.stoppable else self.call()


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


def stop_running_tasks(wait_s: float = EXIT_WAIT_S) -> None:
    """Ask every running task to stop and wait for them, at most ``wait_s`` seconds in all."""
    with _running_lock:
        running = list(_running)
    for task in running:
        task.stop_requested.set()
    deadline = time.monotonic() + wait_s
    for task in running:
        task.done.wait(max(0.0, deadline - time.monotonic()))


# Registered after PySide6 was imported, so it runs before PySide6 tears its objects down.
atexit.register(stop_running_tasks)
