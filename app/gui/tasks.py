"""Work that must not freeze the window: opening the model, reading files and answering.

Each task runs on a Qt thread pool and reports through signals, which Qt delivers in the GUI
thread. A task carries a job number so the controller can ignore a stale result. A question's
task iterates the engine's read and turns each of its events into the matching signal.

A task never lets an exception out of its thread, and never fails because the window is gone: a
signal whose source or receivers were deleted (the window closed, or a script ended without
closing it) only tells the task to stop. At interpreter exit every running task is asked to stop
and waited for a little, so no thread runs Python code while the interpreter is torn down.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal, SignalInstance

from ..core.documents import Document, load_document
from ..core.documents.load_options import LoadOptions
from ..core.errors import Cancelled, PasswordNeeded, ReadingAssistantError
from ..core.library import kept_document
from ..core.options import Choices
from ..core.reading import Answers, MeaningLookup, Planned, Prediction, Progress, ReadingEngine

log = logging.getLogger(__name__)

OUT_OF_MEMORY = "The computer ran out of memory for this. Close other programs or try a smaller document."
# How long the interpreter waits at exit for running tasks to stop (each stops within one batch).
EXIT_WAIT_S = 3.0

_running: set[Task] = set()
_running_lock = threading.Lock()


class TaskSignals(QObject):
    progress = Signal(int, int, int)  # job, done, total
    partial = Signal(int, object)  # job, the best answers so far (a Prediction)
    plan = Signal(int, object)  # job, the windows' character spans in reading order
    finished = Signal(int, object)  # job, result
    failed = Signal(int, str)  # job, message
    cancelled = Signal(int)
    note = Signal(int, str)  # job, what it is doing ("reading page 3 of 38 by OCR")
    password = Signal(int, bool)  # job, whether the password given was wrong: the file needs one


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

    def send(self, signal: SignalInstance, *args: object) -> None:
        """Send one of ``self.signals``; if the window's side is gone, stop instead (nobody is left to tell)."""
        try:
            signal.emit(self.job, *args)
        except RuntimeError:  # "Signal source has been deleted" (or its receiver): the window is gone
            log.debug("%s: a signal not sent, the window is gone", type(self).__name__)
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
        outcome: tuple[SignalInstance, tuple[object, ...]]
        try:
            result = self.work()
        except Cancelled:
            outcome = (self.signals.cancelled, ())
        except ReadingAssistantError as error:
            outcome = (self.signals.failed, (str(error),))
        except MemoryError:
            log.warning("%s ran out of memory", type(self).__name__)
            outcome = (self.signals.failed, (OUT_OF_MEMORY,))
        except Exception as error:  # a bug must still not take the window down
            log.exception("unexpected error in %s", type(self).__name__)
            outcome = (self.signals.failed, (f"Unexpected error: {error or type(error).__name__}",))
        else:
            outcome = (self.signals.finished, (result,))
            result = None
        self.send(outcome[0], *outcome[1])


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


class LoadTask(Task):
    """Opens a file (with its password, if it has one); a paged one reports its pages as it reads
    them and stops when asked. A file that needs a password sends ``password`` and ends cancelled."""

    def __init__(self, job: int, path: Path, password: str | None = None) -> None:
        super().__init__(job)
        self.path, self.password = path, password

    def work(self) -> Document:
        options = LoadOptions(
            password=self.password,
            on_progress=lambda done, total, what: self.send(self.signals.note, what),
            should_stop=self.stop_requested.is_set,
        )
        kept = kept_document(self.path)  # in the library and unchanged: its text is there already
        if kept is not None:
            return kept
        try:
            return load_document(self.path, options)
        except PasswordNeeded as error:
            self.send(self.signals.password, error.wrong)
            raise Cancelled(str(error)) from error


class AskTask(Task):
    """One question about one document, read as ``choices`` say: its plan, progress and best answers
    so far become signals, its settled answers the result."""

    def __init__(
        self,
        job: int,
        engine: ReadingEngine,
        document: Document,
        question: str,
        choices: Choices,
        meaning: MeaningLookup | None = None,
    ) -> None:
        super().__init__(job)
        self.engine, self.document, self.question, self.choices = engine, document, question, choices
        self.meaning = meaning

    def work(self) -> Prediction:
        # Closed when the task stops, so the engine's read ends in this thread, within one batch.
        read = self.engine.read([(self.document, self.question)], self.choices, meaning=self.meaning)
        with contextlib.closing(read) as events:
            for event in events:
                if self.stop_requested.is_set():
                    raise Cancelled("stopped")
                if isinstance(event, Planned):
                    self.send(self.signals.plan, event.spans)
                elif isinstance(event, Progress):
                    self.send(self.signals.progress, event.done, event.total)
                elif isinstance(event, Answers) and event.final:
                    return event.prediction
                elif isinstance(event, Answers):
                    self.send(self.signals.partial, event.prediction)
        raise AssertionError("a read ends with the answers to its question")


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
