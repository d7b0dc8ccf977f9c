"""What the window shows, decided without widgets: the engine, the document, the question and its answers.

The controller owns the model's life, the open document, the running jobs, the current answers
and which of them is selected, and says what changed through signals; ``MainWindow`` only builds
widgets and connects them. It is tested with a fake engine (tests/test_controller.py), fast and
without a model.

One state, shown once:
- ``status_changed(message, 0)`` is the state of the window (a document opened, a question being
  read, answered, stopped); each new state replaces the last, and "" clears it.
  ``status_changed(message, ms)`` with ``ms > 0`` is a passing note ("Type a question first.").
- ``selection_changed(row, reveal)`` says which answer the document's selection sits on; the view
  goes with it (``reveal``) whenever it moves to another answer (a new first answer while reading,
  after Read the Rest, a click, F3), except once the reader has moved the document themselves:
  then only their own choice of an answer moves it (``_select``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal

from ..core.documents import Document, text_document
from ..core.engine import open_engine
from ..core.errors import ReadingAssistantError
from ..core.language import document_language, question_language, reads_english_note
from ..core.library.tokens import prepare_kept
from ..core.options import EARLY_ANSWERS, EARLY_WINDOWS, Choices
from ..core.reading import MeaningLookup, Prediction, ReadingEngine, Span
from . import pasted
from .document_state import DocumentState, OpenDocuments
from .settings import EngineSettings, Store
from .tasks import OUT_OF_MEMORY, AskTask, CallTask, LoadTask, Task
from .words import count_words, document_kind, plural, sentence, share, share_read, verdict_change

EngineOpener = Callable[[EngineSettings], ReadingEngine]
WAITING_FOR_MODEL = "Waiting for the model to load…"
NO_MODEL = "No model is loaded: choose a model folder in File > Settings."
SETTINGS_APPLY_NEXT = "New settings: they apply from the next question."
# How long the window waits for running work to stop when it closes (one batch, or a file being read).
SHUTDOWN_WAIT_MS = 3000
# Text up to this long is handled in the GUI thread at once (a few ms); longer pasted text is
# checked, and a longer document's words counted, on the pool.
AT_ONCE_CHARS = 1024 * 1024
# Threads the pool needs so that opening, showing and searching a document never queue behind the
# model: tokenizing a 50 MB book (which cannot be stopped) holds a thread for half a minute.
MIN_POOL_THREADS = 4


def open_engine_for(settings: EngineSettings) -> ReadingEngine:
    return open_engine(settings.resolved_model_dir(), settings.device)


def settled_without_answer(prediction: Prediction, early_windows: int = EARLY_WINDOWS) -> bool:
    """The verdict is in: after the ranked early windows the model still says 'no answer'.

    The most relevant windows are read first, so if none of them holds an answer the rest of the
    document rarely does; the reader can still read the rest.
    """
    return (
        not prediction.has_answer
        and prediction.windows >= early_windows
        and prediction.windows < prediction.total_windows
    )


def kept_text(text: str, name: str) -> tuple[Document, Path | None]:
    """Pasted or dropped text as a document, and the copy of it kept for Recent (None: not kept)."""
    document = text_document(text, name)
    # The document's text is kept, not the clipboard's: its line endings made one, a broken
    # clipboard's lone surrogates replaced, so the copy reopens as the same document.
    return document, pasted.keep(document.text)


class Job(Enum):
    ENGINE = "engine"
    DOCUMENT = "document"
    PREPARE = "prepare"
    WORDS = "words"
    ASK = "ask"


# Which work the pool starts first when all its threads are busy: what the reader waits for first.
PRIORITY = {Job.ENGINE: 2, Job.DOCUMENT: 2, Job.WORDS: 1, Job.ASK: 1, Job.PREPARE: -1}


class ReadingController(QObject):
    engine_loading = Signal()
    engine_ready = Signal(object)  # the engine
    engine_failed = Signal(str)  # why
    document_changed = Signal(object)  # Document: the one shown now (new, or another tab's)
    documents_changed = Signal(list)  # the open documents in their tabs' order: (id, name)
    all_closed = Signal()  # no document is open any more
    question_started = Signal(str)  # the question being read: old answers are gone
    answers_changed = Signal(object)  # Prediction: the answers to list and highlight
    selection_changed = Signal(int, bool)  # row of the selected answer (-1: none), bring it into view
    progress_changed = Signal(int, int)  # windows read, windows to read
    reading_plan_changed = Signal(object)  # list of (start, end): every window's span, in reading order
    busy_changed = Signal(bool)
    status_changed = Signal(str, int)  # message ("" clears), milliseconds (0: the state, until replaced)
    can_read_rest_changed = Signal(bool)  # the answers come from part of the document only
    note_changed = Signal(str)  # a word beside the answers: a question not in English, a verdict changed ("": none)
    recent_changed = Signal(list)  # recent files, newest first
    history_changed = Signal(list)  # questions asked, oldest first
    error = Signal(str, str)  # title, message: something the reader must see
    opening_changed = Signal(object)  # the file being opened; None: it ended without a document
    password_needed = Signal(object, bool, object)  # path, the last one was wrong, the question to ask then

    def __init__(
        self,
        store: Store,
        pool: QThreadPool | None = None,
        opener: EngineOpener = open_engine_for,
    ) -> None:
        super().__init__()
        self.store = store
        self.pool = pool or QThreadPool.globalInstance()
        if self.pool.maxThreadCount() < MIN_POOL_THREADS:
            self.pool.setMaxThreadCount(MIN_POOL_THREADS)
        self.opener = opener
        # The window reads the early answers' windows first, and on past them unless they settle
        # on "no answer"; their budget is where that verdict is taken.
        self.early_windows = EARLY_ANSWERS.max_windows or EARLY_WINDOWS
        self.settings = store.engine_settings()
        self.engine: ReadingEngine | None = None
        self.engine_error: str | None = None
        # What an index knows of a document's meaning (the library's), to rank its windows by
        # meaning beside words; asked on the reading thread.
        self.meaning: MeaningLookup | None = None
        # Every open document's state, one per tab; the window shows ``current``.
        self.documents = OpenDocuments()
        self._pending_question: str | None = None
        self._jobs: dict[Job, Task] = {}
        # Every task until it ends, current or not: a task dropped while its thread runs would be
        # freed under it.
        self._alive: set[Task] = set()
        self._passwords: dict[str, str] = {}  # file: the password it opened with, this session only
        self._last_job = 0
        self._started = 0.0
        self._closed = False
        self._last_state = ""
        self._preparing: Task | None = None  # the document being tokenized, current or not
        self._prepare_again = False  # another document waits for it

    # -- the current document's state, as the window reads it ----------------------------------

    @property
    def current(self) -> DocumentState | None:
        return self.documents.current

    @property
    def document(self) -> Document | None:
        return self.current.document if self.current is not None else None

    @property
    def document_path(self) -> Path | None:
        return self.current.path if self.current is not None else None

    @property
    def question(self) -> str:
        return self.current.question if self.current is not None else ""

    @property
    def prediction(self) -> Prediction | None:
        return self.current.prediction if self.current is not None else None

    @property
    def selected(self) -> int:
        return self.current.selected if self.current is not None else -1

    @property
    def read_plan(self) -> list[Span]:
        return self.current.read_plan if self.current is not None else []

    @property
    def windows_read(self) -> int:
        return self.current.windows_read if self.current is not None else 0

    @property
    def stopped_early(self) -> bool:
        return self.current is not None and self.current.stopped_early

    # -- the model ----------------------------------------------------------------------------

    def load_engine(self) -> None:
        self.engine = None
        self.engine_error = None
        self.engine_loading.emit()
        settings = self.settings
        task = CallTask(self._next_job(), lambda: self.opener(settings))
        task.signals.finished.connect(self._engine_loaded)
        task.signals.failed.connect(self._engine_failed)
        self._start(Job.ENGINE, task)

    def apply_settings(self, settings: EngineSettings) -> None:
        """New settings: another model or device loads the engine again; how questions are read
        applies from the next read, with the engine and the tokenized document kept."""
        if settings == self.settings:
            return
        old, self.settings = self.settings, settings
        self.store.save_engine_settings(settings)
        if not settings.same_engine(old):
            self.cancel(quietly=True)
            self.load_engine()
        elif self.current is not None and self.current.prediction is not None:
            self._note(SETTINGS_APPLY_NEXT, 5000)

    def _read_choices(self) -> Choices:
        """The reader's settings over the early answers' order, read to the end (no window budget)."""
        return replace(self.settings.choices().over(EARLY_ANSWERS), max_windows=0)

    def _engine_loaded(self, job: int, engine: ReadingEngine) -> None:
        if not self._finish(Job.ENGINE, job):
            return
        self.engine = engine
        self.engine_ready.emit(engine)
        self._state("")  # "Waiting for the model to load…" is over
        for warning in engine.warnings:
            self._note(warning, 10000)
        self._prepare_document()
        if self._pending_question:
            self.ask(self._pending_question)

    def _engine_failed(self, job: int, message: str) -> None:
        if not self._finish(Job.ENGINE, job):
            return
        self._pending_question = None
        self.engine_error = sentence(message)
        self._state(NO_MODEL)
        self.engine_failed.emit(self.engine_error)
        self.error.emit("The model could not be loaded", f"{self.engine_error}\n\nChoose a model folder in Settings.")

    # -- documents ----------------------------------------------------------------------------

    def open_file(self, path: Path, question: str | None = None, password: str | None = None) -> None:
        """Read a file in the background; ``question`` is asked once it is open. A file that needs a
        password makes ``password_needed`` ask the reader for it (the window then opens it again)."""
        self._state(f"Opening {path.name}… (Esc stops)")
        self._pending_question = question
        task = LoadTask(self._next_job(), path, password)
        task.signals.finished.connect(lambda job, document: self._document_loaded(job, document, path, password))
        task.signals.failed.connect(self._document_failed)
        task.signals.note.connect(lambda job, what: self._opening_note(job, f"Opening {path.name}: {what}…"))
        task.signals.password.connect(lambda job, wrong: self._password_needed(job, path, wrong, question))
        task.signals.cancelled.connect(lambda job: self._document_stopped(job, path))
        self._start(Job.DOCUMENT, task)
        self.opening_changed.emit(path)

    def _opening_note(self, job: int, note: str) -> None:
        if self._is_current(Job.DOCUMENT, job):
            self._state(f"{note} (Esc stops)")

    def _password_needed(self, job: int, path: Path, wrong: bool, question: str | None) -> None:
        if self._finish(Job.DOCUMENT, job):
            self._state("")
            self.opening_changed.emit(None)
            self.password_needed.emit(path, wrong, question)

    def _document_stopped(self, job: int, path: Path) -> None:
        if self._finish(Job.DOCUMENT, job):
            self._state(f"Stopped opening {path.name}.")
            self.opening_changed.emit(None)

    def password_for(self, origin: str) -> str | None:
        """The password a file was opened with in this session (the page view opens it again)."""
        return self._passwords.get(origin)

    def open_text(self, text: str, name: str) -> bool:
        """Pasted or dropped text, under the same rules as a file; False if it was refused. A copy is
        kept in the cache folder and listed in Recent (``pasted``), so it can be opened again.

        Long text is checked and kept on the pool (True: it is being opened; a refusal comes as an error).
        """
        if len(text) > AT_ONCE_CHARS:
            self._state(f"Opening {name}…")
            self._pending_question = None
            task = CallTask(self._next_job(), lambda: kept_text(text, name))
            task.signals.finished.connect(lambda job, kept: self._document_loaded(job, *kept))
            task.signals.failed.connect(self._document_failed)
            self._start(Job.DOCUMENT, task)
            return True
        try:
            document, copy = kept_text(text, name)
        except ReadingAssistantError as error:
            self._note(sentence(str(error)) + ".", 5000)
            return False
        self._document_loaded(None, document, copy)
        return True

    def set_document(self, document: Document, path: Path | None = None) -> None:
        """Show ``document`` in a tab of its own (a file open already is read again in its tab)."""
        # A file being opened is overtaken by this document.
        opening = self._jobs.pop(Job.DOCUMENT, None)
        if opening is not None:
            opening.stop_requested.set()
        self.cancel(quietly=True)
        self.documents.add(DocumentState(document, path))
        self._show_current(restored=False)

    def switch_to(self, document_id: str) -> None:
        """Show another open document, as it was left: its question, answers and selection. A read
        of the one shown stops (its answers so far stay, and Read the Rest goes on from them)."""
        state = self.documents.by_id(document_id)
        if state is None or state is self.current:
            return
        self.cancel(quietly=True)
        self.documents.show(state)
        self._show_current(restored=True)

    def close_document(self, document_id: str | None = None) -> None:
        """Close a document (the one shown by default); the tab beside it is shown next."""
        state = self.documents.by_id(document_id) if document_id else self.current
        if state is None:
            return
        was_current = state is self.current
        if was_current:
            self.cancel(quietly=True)
        following = self.documents.remove(state)
        if following is None:
            self._state("")
            self.can_read_rest_changed.emit(False)
            self.documents_changed.emit([])
            self.all_closed.emit()
        elif was_current:
            self.documents.show(following)
            self._show_current(restored=True)
        else:
            self.documents_changed.emit(self.open_documents())

    def open_documents(self) -> list[tuple[str, str]]:
        return [(s.document.id, s.document.name) for s in self.documents.states]

    def _show_current(self, restored: bool) -> None:
        state = self.current
        assert state is not None
        self.can_read_rest_changed.emit(False)
        self.document_changed.emit(state.document)
        self.documents_changed.emit(self.open_documents())
        if restored and state.prediction is not None:
            self.answers_changed.emit(state.prediction)
            self.selection_changed.emit(state.selected, False)  # the view goes to the reader's place
            self.can_read_rest_changed.emit(self.can_read_rest)
        self._prepare_document()
        self._count_words(state.document)

    def _count_words(self, document: Document) -> None:
        """The state names the document and its words, and says if it seems not to be in English;
        a long one's words are counted on the pool."""
        language = document_language(document.text)
        note = f". {reads_english_note('It', language)}" if language is not None else ""
        if len(document.text) <= AT_ONCE_CHARS:
            self._state(f"{document.name}: {plural(count_words(document.text), 'word')}{note}")
            return
        provisional = f"{document.name}: counting its words…{note}"
        self._state(provisional)
        text = document.text
        task = CallTask(self._next_job(), lambda: count_words(text))
        task.signals.finished.connect(
            lambda job, words: self._words_counted(job, f"{document.name}: {plural(words, 'word')}{note}", provisional)
        )
        self._start(Job.WORDS, task)

    def _words_counted(self, job: int, summary: str, provisional: str) -> None:
        # Only if nothing has said anything since (a question's state wins).
        if self._finish(Job.WORDS, job) and self._last_state == provisional:
            self._state(summary)

    def _document_loaded(
        self, job: int | None, document: Document, path: Path | None, password: str | None = None
    ) -> None:
        """A document is read (``job`` None: at once, on this thread); ``path`` is its file."""
        if job is not None and not self._finish(Job.DOCUMENT, job):
            return
        if path is not None and pasted.is_pasted(path):
            # Reopened from Recent, it is called as it was when pasted, not by its file in the cache.
            name = pasted.NAME if document.name == path.name else document.name
            document = replace(document, name=name, origin=str(path))
        if password is not None and document.origin is not None:
            self._passwords[document.origin] = password
        question = self._pending_question if job is not None else None
        self.set_document(document, path)
        self.current.unkept = path is None
        self.opening_changed.emit(None)
        if path is not None:
            self.recent_changed.emit(self.store.add_recent_file(path))
        if question:
            self.ask(question)

    def _document_failed(self, job: int, message: str) -> None:
        if self._finish(Job.DOCUMENT, job):
            self._state("")
            self._pending_question = None
            self.opening_changed.emit(None)
            self.error.emit("This document cannot be opened", sentence(message))

    def _prepare_document(self) -> None:
        """Tokenize and index the document ahead of the first question (the engine caches both).

        One document at a time: a document opened while another is tokenized stops that one (the
        engine checks between chunks) and waits for its thread.
        """
        if self.engine is None or self.document is None:
            return
        if self._preparing is not None and not self._preparing.done.is_set():
            self._preparing.stop_requested.set()  # that document is no longer the reader's
            self._prepare_again = True
            return
        self._prepare_again = False
        engine, document = self.engine, self.document
        # A document the library holds keeps its tokens there: reopened, it is not tokenized again.
        task = CallTask(self._next_job(), lambda stop: prepare_kept(engine, document, stop), stoppable=True)
        task.signals.finished.connect(lambda job, _: self._prepare_ended(job))
        task.signals.failed.connect(self._prepare_ended)
        task.signals.cancelled.connect(self._prepare_ended)
        self._preparing = task
        self._start(Job.PREPARE, task)

    def _prepare_ended(self, job: int, message: str = "") -> None:
        """Running out of memory is said at once; other problems, when the reader asks (the read says why)."""
        if self._finish(Job.PREPARE, job) and message == OUT_OF_MEMORY:
            self.error.emit("The document could not be prepared for questions", message)
        if self._prepare_again:
            self._prepare_document()

    # -- asking -------------------------------------------------------------------------------

    def ask(self, question: str) -> None:
        question = question.strip()
        if not question:
            self._note("Type a question first.", 4000)
            return
        if self.current is None:
            self._note("Open, drop or paste a document first (Ctrl+O); your question stays in the box.", 6000)
            return
        if self.engine is None:
            if self.engine_error is not None:
                self._note(NO_MODEL, 6000)
                return
            self._pending_question = question
            self._state(WAITING_FOR_MODEL)
            return
        self.history_changed.emit(self.store.add_question(question))
        self._read(self.current, question, read_all=False)
        language = question_language(question)
        if language is not None:
            self.note_changed.emit(reads_english_note("This question", language))

    def read_rest(self) -> None:
        """Read the whole document for the current question, after an early stop or a cancel.

        The answers shown stay until better ones come: the read starts with the same windows.
        """
        if not self.can_read_rest or self.engine is None or self.current is None:
            return
        self._read(self.current, self.current.question, read_all=True)

    @property
    def can_read_rest(self) -> bool:
        state = self.current
        prediction = state.prediction if state is not None else None
        return (
            not self.reading
            and prediction is not None
            and prediction.question == state.question
            and prediction.windows < prediction.total_windows
        )

    def _read(self, state: DocumentState, question: str, read_all: bool) -> None:
        self._pending_question = None
        self._stop_reading()
        again = read_all and question == state.question and state.prediction is not None
        state.question = question
        state.read_all = read_all
        state.stopped_early = False
        state.windows_read = 0
        if again:
            state.shown_before = state.prediction
            self._state(f"Reading the rest of the {self._kind()}…")
        else:
            state.clear_answers()
            self.can_read_rest_changed.emit(False)
            state.view_follows = True
            self._state("")
            self.question_started.emit(question)
        task = AskTask(self._next_job(), self.engine, state.document, question, self._read_choices(), self.meaning)
        task.signals.plan.connect(lambda job, spans: self._ask_plan(job, state, spans))
        task.signals.progress.connect(lambda job, done, total: self._ask_progress(job, state, done, total))
        task.signals.partial.connect(lambda job, prediction: self._ask_partial(job, state, prediction))
        task.signals.finished.connect(lambda job, prediction: self._ask_finished(job, state, prediction))
        task.signals.failed.connect(self._ask_failed)
        task.signals.cancelled.connect(self._ask_cancelled)
        self._started = time.perf_counter()
        self._start(Job.ASK, task)
        self.busy_changed.emit(True)
        self.can_read_rest_changed.emit(False)

    def cancel(self, quietly: bool = False) -> None:
        """Stop the running question within one batch; answers found so far stay on screen.

        ``quietly``: something else replaces the read (a document, new settings) and says so itself.
        """
        opening = None if quietly else self._jobs.pop(Job.DOCUMENT, None)
        if opening is not None:
            opening.stop_requested.set()
            self._pending_question = None
            self._state("Stopped opening the file.")
            self.opening_changed.emit(None)
        if not self._stop_reading():
            return
        self.can_read_rest_changed.emit(self.can_read_rest)
        if quietly:
            return
        prediction = self.prediction
        if prediction is not None and prediction.question == self.question:
            part = share(prediction.windows, prediction.total_windows)
            self._state(
                f"Stopped after {part} of the {self._kind()}: these answers come from the most relevant "
                "parts read. Read the rest (Ctrl+R) to go on."
            )
        else:
            self._state("Cancelled before the first answers.")

    def shutdown(self) -> None:
        """The window is closing: stop everything, let no late signal reach it, and wait a little."""
        self._closed = True
        self._pending_question = None
        self._jobs.clear()
        for task in self._alive:
            task.stop_requested.set()
            task.signals.blockSignals(True)
        # Each task stops within one batch; waiting here means no thread outlives the window's objects.
        self.pool.waitForDone(SHUTDOWN_WAIT_MS)

    def _stop_reading(self) -> bool:
        task = self._jobs.pop(Job.ASK, None)
        if task is None:
            return False
        task.stop_requested.set()
        self.busy_changed.emit(False)
        return True

    def _ask_plan(self, job: int, state: DocumentState, spans: list[Span]) -> None:
        if self._is_current(Job.ASK, job):
            state.read_plan = spans
            self.reading_plan_changed.emit(spans)

    def _ask_progress(self, job: int, state: DocumentState, done: int, total: int) -> None:
        if self._is_current(Job.ASK, job):
            state.windows_read = done
            self.progress_changed.emit(done, total)

    def _ask_partial(self, job: int, state: DocumentState, prediction: Prediction) -> None:
        if not self._is_current(Job.ASK, job):
            return
        first = state.prediction is None
        self._show(state, prediction)
        if not state.read_all and settled_without_answer(prediction, self.early_windows):
            # The verdict is settled: stop, and let the reader read the rest if they want to.
            self._jobs.pop(Job.ASK).stop_requested.set()
            state.stopped_early = True
            state.windows_read = prediction.windows
            self.busy_changed.emit(False)
            self.can_read_rest_changed.emit(True)
            part = share(prediction.windows, prediction.total_windows)
            self._state(
                f"No answer in the most relevant {part} of the {self._kind()}, so reading stopped there "
                f"({self._seconds():.2f} s). Read the rest (Ctrl+R) to be sure."
            )
        elif first and not state.read_all:
            self._state(f"First answers in {self._seconds():.2f} s; reading on, the most relevant parts first…")

    def _ask_finished(self, job: int, state: DocumentState, prediction: Prediction) -> None:
        if not self._finish(Job.ASK, job):
            return
        state.windows_read = prediction.windows
        self.busy_changed.emit(False)
        self._show(state, prediction)
        self.can_read_rest_changed.emit(self.can_read_rest)
        read = share_read(prediction.windows, prediction.total_windows, self._kind())
        change = verdict_change(state.shown_before, prediction, self._kind()) if state.shown_before is not None else ""
        if change:
            self.note_changed.emit(change)
        answered = f"answered in {self._seconds():.2f} s, {read}."
        whole = state.shown_before is not None
        self._state(f"After reading the whole {self._kind()}: {answered}" if whole else sentence(answered))
        state.shown_before = None

    def _ask_failed(self, job: int, message: str) -> None:
        if self._finish(Job.ASK, job):
            self.busy_changed.emit(False)
            self._state("")
            self.error.emit("The question could not be answered", sentence(message))

    def _ask_cancelled(self, job: int) -> None:
        if self._finish(Job.ASK, job):
            self.busy_changed.emit(False)

    # -- answers and the selection -------------------------------------------------------------

    def _show(self, state: DocumentState, prediction: Prediction) -> None:
        """New answers (best so far or final): the selection follows the answer it was on."""
        state.prediction = prediction
        self.answers_changed.emit(prediction)
        spans = [(a.start, a.end) for a in prediction.answers]
        if state.chosen is not None and state.chosen in spans:
            row = spans.index(state.chosen)
        else:
            # The reader's answer is gone, or they chose none: the best answer, if there is one.
            state.chosen = None
            row = 0 if spans and prediction.has_answer else -1
        self._select(state, row, by_reader=False)

    def choose(self, row: int) -> None:
        """The reader chose an answer (a click, F3): select it and bring it into view."""
        state = self.current
        if state is None or state.prediction is None or not 0 <= row < len(state.prediction.answers):
            return
        answer = state.prediction.answers[row]
        state.chosen = (answer.start, answer.end)
        self._select(state, row, by_reader=True)

    def _select(self, state: DocumentState, row: int, by_reader: bool) -> None:
        """The one rule for the selection and the view, in every state: the document's selection is
        on the selected answer, and the view goes with it whenever it moves to another answer,
        unless the reader has moved the view since (scrolled, clicked): then it stays theirs until
        they choose an answer themselves."""
        span = None
        if state.prediction is not None and 0 <= row < len(state.prediction.answers):
            answer = state.prediction.answers[row]
            span = (answer.start, answer.end)
        if by_reader:
            state.view_follows = True
        reveal = state.view_follows and span is not None and (by_reader or span != state.revealed)
        if reveal:
            state.revealed = span
        state.selected = row
        self.selection_changed.emit(row, reveal)

    def step(self, delta: int) -> None:
        """F3 / Shift+F3: the next or previous answer, wrapping around."""
        if self.prediction is None or not self.prediction.answers:
            return
        count = len(self.prediction.answers)
        row = (0 if delta > 0 else count - 1) if self.selected < 0 else (self.selected + delta) % count
        self.choose(row)

    def reader_moved(self) -> None:
        """The reader scrolled or clicked in the document: the view is theirs from now on."""
        if self.current is not None:
            self.current.view_follows = False

    # -- plumbing -----------------------------------------------------------------------------

    def _kind(self) -> str:
        return document_kind(self.document)

    def _seconds(self) -> float:
        return time.perf_counter() - self._started

    def _state(self, message: str) -> None:
        self._last_state = message
        self.status_changed.emit(message, 0)

    def _note(self, message: str, milliseconds: int) -> None:
        self.status_changed.emit(message, milliseconds)

    def _next_job(self) -> int:
        self._last_job += 1
        return self._last_job

    def _start(self, kind: Job, task: Task) -> None:
        if self._closed:
            return
        old = self._jobs.get(kind)
        if old is not None:
            old.stop_requested.set()
        self._jobs[kind] = task
        self._alive.add(task)
        for ended in (task.signals.finished, task.signals.failed, task.signals.cancelled):
            ended.connect(lambda *_, task=task: self._alive.discard(task))
        self.pool.start(task, PRIORITY[kind])

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
