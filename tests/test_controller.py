"""The window's controller with a fake engine: what it shows, in which order, and the races.

The engine is faked (a reader whose pace the test sets window by window) so each case runs in
milliseconds without a model; tests/test_gui.py drives the real window on the real model.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from PySide6.QtCore import QThreadPool

from reading_assistant.core.engine import PARTIAL_WINDOWS
from reading_assistant.core.errors import ModelError
from reading_assistant.core.options import EARLY_WINDOWS
from reading_assistant.core.reading import Prediction, ReadingEngine
from reading_assistant.gui import pasted
from reading_assistant.gui.controller import (
    NO_MODEL,
    SETTINGS_APPLY_NEXT,
    WAITING_FOR_MODEL,
    ReadingController,
    settled_without_answer,
)
from reading_assistant.gui.settings import EngineSettings, Store
from reading_assistant.gui.words import plural, sentence, share, share_read, shown_label
from tests.fakes import WINDOWS, FakeEngine, answer, no_answer, prediction

TEXT = "Marie Curie was born in Warsaw.\r\nShe moved to Paris in 1891."


class Recorder:
    """Every signal the controller sends, in order, as (name, arguments)."""

    NAMES = (
        *("engine_loading", "engine_ready", "engine_failed", "document_changed", "question_started"),
        *("answers_changed", "selection_changed", "progress_changed", "reading_plan_changed", "busy_changed"),
        *("status_changed", "can_read_rest_changed", "recent_changed", "history_changed", "error"),
        "note_changed",
        *("documents_changed", "all_closed"),
    )

    def __init__(self, controller: ReadingController) -> None:
        self.events: list[tuple[str, tuple]] = []
        for name in self.NAMES:
            getattr(controller, name).connect(lambda *args, name=name: self.events.append((name, args)))

    def of(self, name: str) -> list[tuple]:
        return [args for event, args in self.events if event == name]

    def statuses(self) -> list[str]:
        return [args[0] for args in self.of("status_changed")]

    def states(self) -> list[str]:
        """The window's states (messages that stay until replaced), not its passing notes."""
        return [message for message, ms in self.of("status_changed") if ms == 0]

    def since(self, mark: int) -> Recorder:
        later = Recorder.__new__(Recorder)
        later.events = self.events[mark:]
        return later


@pytest.fixture()
def store(tmp_path) -> Store:
    return Store(tmp_path / "settings.ini")


def make(qtbot, store, engine=None, opener=None):
    engine = engine or FakeEngine()
    controller = ReadingController(store, QThreadPool(), opener or (lambda settings: engine))
    recorder = Recorder(controller)
    controller.load_engine()
    qtbot.waitUntil(lambda: controller.engine is not None, timeout=5000)
    return controller, recorder, engine


def first_answers(qtbot, controller: ReadingController, engine: FakeEngine, question: str, text: str = TEXT) -> None:
    """Open the text, ask, and let the paced engine read until its first answers are shown."""
    controller.open_text(text, "Pasted text")
    controller.ask(question)
    engine.release(PARTIAL_WINDOWS)
    qtbot.waitUntil(lambda: controller.prediction is not None, timeout=5000)


def finish(qtbot, controller: ReadingController) -> None:
    qtbot.waitUntil(lambda: not controller.reading, timeout=5000)
    controller.pool.waitForDone(5000)
    qtbot.wait(20)  # let queued signals of finished jobs arrive


def test_a_question_is_read_and_answered_once_with_one_state(qtbot, store):
    controller, recorder, engine = make(qtbot, store)
    assert controller.open_text(TEXT, "Pasted text")
    assert controller.document.text == TEXT.replace("\r\n", "\n")  # the loaders' rules
    controller.ask("  Where was Curie born?  ")
    finish(qtbot, controller)
    answers = recorder.of("answers_changed")
    assert [p.windows for (p,) in answers] == [8, 16, 24]
    # The best answer is selected each time, and the view moves once: for the first answers.
    assert recorder.of("selection_changed") == [(0, True), (0, False), (0, False)]
    assert controller.prediction.question == "Where was Curie born?"
    assert recorder.of("busy_changed") == [(True,), (False,)]
    assert recorder.of("question_started") == [("Where was Curie born?",)]
    states = recorder.states()
    # The model is ready (""), the text is open, the question clears it, first answers, answered.
    assert states[:3] == ["", "Pasted text: 12 words", ""]
    assert states[3].startswith("First answers in ") and states[3].endswith(
        "reading on, the most relevant parts first…"
    )
    assert states[4].startswith("Answered in ") and states[4].endswith(" s, the whole text read.")
    assert len(states) == 5
    assert engine.prepared == [controller.document.text]
    # What the read map shows: the plan once, then progress.
    assert recorder.of("reading_plan_changed") == [(engine.plan(controller.document.text),)]
    assert recorder.of("progress_changed")[-1] == (WINDOWS, WINDOWS)
    assert controller.windows_read == WINDOWS and not controller.can_read_rest


def test_words_plurals_shares_and_capitals():
    assert (
        plural(1, "word") == "1 word" and plural(2, "word") == "2 words" and plural(1569, "window") == "1,569 windows"
    )
    assert plural(3, "match", "matches") == "3 matches"
    assert sentence("no such file: /x") == "No such file: /x"
    # A file's name or an identifier is written as it is called.
    assert sentence("scanned.pdf cannot be read") == "scanned.pdf cannot be read"
    assert sentence("x86_64 is not supported") == "x86_64 is not supported"
    assert shown_label("page vi") == "Page vi" and shown_label("libffi manual") == "libffi manual"
    assert share(0, 1397) == "less than 1%" and share(531, 1397) == "38%" and share(1396, 1397) == "99%"
    assert share_read(1397, 1397, "book") == "the whole book read"
    assert share_read(531, 1397, "book") == "38% of the book read"


def test_asking_while_the_model_loads_waits_then_answers_and_clears_the_wait(qtbot, store):
    opened = threading.Event()
    engine = FakeEngine()

    def slow_opener(settings):
        opened.wait(5)
        return engine

    controller = ReadingController(store, QThreadPool(), slow_opener)
    recorder = Recorder(controller)
    controller.load_engine()
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    assert recorder.states()[-1] == WAITING_FOR_MODEL
    opened.set()
    qtbot.waitUntil(lambda: controller.prediction is not None and not controller.reading, timeout=5000)
    finish(qtbot, controller)
    assert WAITING_FOR_MODEL not in recorder.states()[-3:]
    assert recorder.states()[-1].startswith("Answered in")
    assert controller.prediction.windows == WINDOWS


def test_a_new_question_during_a_read_replaces_it_without_a_stale_answer_or_status(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "What did Curie study?")
    mark = len(recorder.events)
    controller.ask("Where was Curie born?")
    engine.release(2 * WINDOWS + 2)
    finish(qtbot, controller)
    later = recorder.since(mark)
    questions = [p.question for (p,) in recorder.of("answers_changed")]
    assert questions[0] == "What did Curie study?"
    assert set(questions[1:]) == {"Where was Curie born?"}
    assert controller.prediction.question == "Where was Curie born?"
    assert controller.prediction.windows == WINDOWS
    # One state at a time: the old "First answers…" is cleared, no "Stopped", and the final state
    # is the new question's.
    assert later.states()[0] == ""
    assert not any(state.startswith("Stopped") for state in recorder.states())
    assert later.states()[-1].startswith("Answered in")
    assert later.of("selection_changed")[0] == (0, True)  # a new question reveals its first answer
    assert recorder.of("busy_changed")[-1] == (False,)


def test_a_new_document_during_a_read_stops_it_drops_its_answers_and_its_state(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "Where was Curie born?")
    controller.open_text("Pierre Curie was born in Paris.", "Second")
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert controller.document.name == "Second"
    assert controller.prediction is None and controller.selected == -1
    assert len(recorder.of("answers_changed")) == 1  # only the one shown before the new document
    assert recorder.states()[-1] == "Second: 6 words"  # "First answers in …, reading on" is gone
    assert not controller.can_read_rest


def test_escape_keeps_the_answers_found_so_far_and_offers_the_rest(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "Where was Curie born?")
    controller.cancel()
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert controller.prediction.windows == PARTIAL_WINDOWS
    assert recorder.states()[-1].startswith("Stopped after 33% of the text: these answers come from the most")
    assert recorder.of("busy_changed") == [(True,), (False,)]
    assert controller.can_read_rest and recorder.of("can_read_rest_changed")[-1] == (True,)

    # Read the rest: the answers stay on screen (no new question), and the whole text is read.
    mark = len(recorder.events)
    controller.read_rest()
    engine.release(WINDOWS + 1)
    finish(qtbot, controller)
    later = recorder.since(mark)
    assert later.of("question_started") == []
    assert later.states()[0] == "Reading the rest of the text…"
    assert later.states()[-1].startswith("After reading the whole text: answered in")
    assert controller.prediction.windows == WINDOWS
    assert all(reveal is False for _, reveal in later.of("selection_changed"))
    assert not controller.can_read_rest


def test_escape_before_any_answer_says_cancelled(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    controller.cancel()
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert controller.prediction is None
    assert recorder.states()[-1] == "Cancelled before the first answers."
    assert recorder.of("answers_changed") == []
    assert not controller.can_read_rest


def test_closing_during_a_read_sends_nothing_more_and_waits_for_the_thread(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    engine.release(2)
    qtbot.waitUntil(lambda: bool(recorder.of("progress_changed")), timeout=5000)
    engine.release(1)  # the window the read is in when the stop comes
    controller.shutdown()
    assert controller.pool.activeThreadCount() == 0  # stopped within its window, before shutdown returned
    seen = len(recorder.events)
    engine.release(WINDOWS)
    qtbot.wait(50)
    assert len(recorder.events) == seen
    controller.ask("Where was Curie born?")  # nothing starts once closed
    assert controller.pool.activeThreadCount() == 0 and not controller.reading


def test_a_model_that_cannot_open_is_reported_and_asking_says_so_instead_of_waiting(qtbot, store):
    def broken(settings):
        raise ModelError("the model folder /nowhere has no .onnx file")

    controller = ReadingController(store, QThreadPool(), broken)
    recorder = Recorder(controller)
    controller.open_text(TEXT, "Pasted text")
    controller.load_engine()
    controller.ask("Where was Curie born?")
    qtbot.waitUntil(lambda: bool(recorder.of("error")), timeout=5000)
    title, message = recorder.of("error")[0]
    assert title == "The model could not be loaded" and message.startswith("The model folder /nowhere has no .onnx")
    assert recorder.of("engine_failed") == [("The model folder /nowhere has no .onnx file",)]
    assert recorder.states()[-1] == NO_MODEL
    assert controller.engine is None and controller.prediction is None
    controller.ask("Where was Curie born?")
    assert recorder.statuses()[-1] == NO_MODEL  # not "Waiting for the model" for ever


def test_a_file_that_cannot_be_read_keeps_the_open_document_and_the_message_names_it_as_it_is(qtbot, store, tmp_path):
    controller, recorder, _ = make(qtbot, store)
    controller.open_text(TEXT, "Pasted text")
    bad = tmp_path / "data.txt"
    bad.write_bytes(b"\x00\x01\x02" * 50)
    controller.open_file(bad, question="Where?")
    qtbot.waitUntil(lambda: bool(recorder.of("error")), timeout=5000)
    title, message = recorder.of("error")[0]
    assert title == "This document cannot be opened"
    assert message.startswith("data.txt looks like a binary file")  # not "Data.txt": the file's own name
    assert controller.document.name == "Pasted text"
    assert recorder.of("question_started") == []  # the question waited for a file that never came


def test_empty_or_blank_text_is_refused_with_a_sentence(qtbot, store):
    controller, recorder, _ = make(qtbot, store)
    assert not controller.open_text(" \n\t ", "Pasted text")
    assert controller.document is None
    assert recorder.statuses()[-1] == "Pasted text has no text."


def test_a_file_opened_with_a_question_is_asked_and_remembered(qtbot, store, tmp_path):
    controller, recorder, _ = make(qtbot, store)
    path = tmp_path / "curie.txt"
    path.write_text(TEXT, encoding="utf-8")
    controller.open_file(path, question="Where was Curie born?")
    qtbot.waitUntil(lambda: controller.prediction is not None and not controller.reading, timeout=5000)
    finish(qtbot, controller)
    assert recorder.of("recent_changed") == [([str(path.resolve())],)]
    assert controller.prediction.answers[0].text == "Warsaw"
    assert controller.document_path == path
    assert recorder.states()[-1].endswith("the whole document read.")


def test_the_fake_engine_is_a_reading_engine_as_the_real_one_is(tiny_bert):
    from reading_assistant.core.engine import open_engine

    assert isinstance(FakeEngine(), ReadingEngine)
    assert isinstance(open_engine(tiny_bert, device="cpu"), ReadingEngine)


def test_reading_settings_apply_to_the_next_read_and_never_reload_the_model(qtbot, store):
    opened = []
    engine = FakeEngine()

    def opener(settings):
        opened.append(settings)
        return engine

    controller, recorder, _ = make(qtbot, store, engine, opener)
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    finish(qtbot, controller)
    first = engine.choices[-1]
    assert (first.ranked, first.max_windows, first.top_k, first.doc_stride) == (True, 0, 5, None)
    settings = replace(controller.settings, top_k=3, doc_stride=64, max_answer_len=12)
    controller.apply_settings(settings)
    assert recorder.statuses()[-1] == SETTINGS_APPLY_NEXT
    assert controller.engine is engine and len(opened) == 1  # no reload
    assert engine.prepared == [controller.document.text]  # nor a second tokenization
    assert controller.prediction is not None  # the answers shown stay
    assert Store(store.path).engine_settings() == settings
    controller.ask("Where was Curie born?")
    finish(qtbot, controller)
    read = engine.choices[-1]
    assert (read.ranked, read.max_windows, read.top_k, read.doc_stride, read.max_answer_len) == (True, 0, 3, 64, 12)

    controller.apply_settings(replace(settings, device="cpu"))  # another device: the model loads again
    qtbot.waitUntil(lambda: controller.engine is not None and len(opened) == 2, timeout=5000)
    assert opened[-1].device == "cpu"


def test_stored_settings_say_none_for_the_models_own_and_survive_a_damaged_file(store):
    assert Store(store.path).engine_settings() == EngineSettings()
    store.save_engine_settings(EngineSettings(top_k=7, doc_stride=96))
    again = Store(store.path).engine_settings()
    assert (again.top_k, again.doc_stride, again.max_answer_len) == (7, 96, None)
    # Files written before None was stored said 0; a hand-edited one may say anything.
    store._qsettings.setValue("engine/doc_stride", 0)
    store._qsettings.setValue("engine/max_answer_len", "lots")
    store._qsettings.setValue("engine/top_k", 100_000)
    store._qsettings.setValue("engine/device", "quantum")
    store._qsettings.sync()
    damaged = Store(store.path).engine_settings()
    assert damaged == EngineSettings(top_k=5, doc_stride=None, max_answer_len=None, device="auto")


def test_questions_are_kept_across_restarts(qtbot, store):
    controller, recorder, _ = make(qtbot, store)
    controller.open_text(TEXT, "Pasted text")
    for question in ("Where was Curie born?", "When did she move?", "Where was Curie born?"):
        controller.ask(question)
        finish(qtbot, controller)
    assert recorder.of("history_changed")[-1] == (["When did she move?", "Where was Curie born?"],)
    assert Store(store.path).questions() == ["When did she move?", "Where was Curie born?"]


# -- the selection and the view -------------------------------------------------------------------

TWO = "Curie was born in Warsaw. Some say Krakow. She moved to Paris."


def reranking(text: str, question: str, done: int, total: int) -> Prediction:
    """Warsaw leads at first; from 16 windows Paris leads and Krakow drops out."""
    if done < 16:
        found = [answer(text, "Warsaw", 0.6), answer(text, "Krakow", 0.3), answer(text, "Paris", 0.1)]
    else:
        found = [answer(text, "Paris", 0.7), answer(text, "Warsaw", 0.3)]
    return Prediction(question, found, 0.01, -4.0, True, done, 0.01, total, 300)


def test_the_selection_and_the_view_follow_a_new_first_answer_while_reading(qtbot, store):
    engine = FakeEngine(paced=True, answers=reranking)
    controller, recorder, _ = make(qtbot, store, engine)
    first_answers(qtbot, controller, engine, "Where was Curie born?", TWO)
    assert recorder.of("selection_changed") == [(0, True)]  # Warsaw, brought into view
    engine.release(WINDOWS)
    finish(qtbot, controller)
    # Paris leads now: the selection and the view went to it, once.
    assert recorder.of("selection_changed") == [(0, True), (0, True), (0, False)]
    assert controller.prediction.answers[controller.selected].text == "Paris"


def test_the_selection_follows_the_answer_the_reader_chose_and_the_view_stays_on_it(qtbot, store):
    engine = FakeEngine(paced=True, answers=reranking)
    controller, recorder, _ = make(qtbot, store, engine)
    first_answers(qtbot, controller, engine, "Where was Curie born?", TWO)
    controller.choose(0)  # the reader clicks Warsaw: the view goes there
    assert recorder.of("selection_changed")[-1] == (0, True)
    engine.release(WINDOWS)
    finish(qtbot, controller)
    # Warsaw is now second: the selection followed it to row 1, and the view, already on it, stays.
    assert recorder.of("selection_changed")[-1] == (1, False)
    assert controller.prediction.answers[controller.selected].text == "Warsaw"
    controller.step(1)  # F3 wraps to the first answer and goes there
    assert recorder.of("selection_changed")[-1] == (0, True)


def test_when_the_chosen_answer_drops_out_the_selection_and_the_view_go_to_the_best(qtbot, store):
    engine = FakeEngine(paced=True, answers=reranking)
    controller, recorder, _ = make(qtbot, store, engine)
    first_answers(qtbot, controller, engine, "Where was Curie born?", TWO)
    controller.choose(1)  # Krakow
    mark = len(recorder.events)
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert recorder.since(mark).of("selection_changed")[0] == (0, True)
    assert controller.prediction.answers[controller.selected].text == "Paris"


def test_after_scrolling_only_the_readers_own_choice_moves_the_view(qtbot, store):
    engine = FakeEngine(paced=True, answers=reranking)
    controller, recorder, _ = make(qtbot, store, engine)
    first_answers(qtbot, controller, engine, "Where was Curie born?", TWO)
    controller.reader_moved()  # the reader scrolls away from Warsaw
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert recorder.of("selection_changed")[1:] == [(0, False), (0, False)]  # Paris selected, view kept
    controller.choose(1)
    assert recorder.of("selection_changed")[-1] == (1, True)


def test_a_reader_who_scrolled_is_not_moved_by_the_first_answers(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    controller.reader_moved()  # the reader scrolls while the first windows are read
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert recorder.of("selection_changed") == [(0, False), (0, False), (0, False)]


def test_a_reader_who_scrolls_after_the_first_answers_stays_put_when_the_read_ends(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "Where was Curie born?")
    controller.reader_moved()
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert [reveal for _, reveal in recorder.of("selection_changed")] == [True, False, False]


# -- stopping when the verdict is settled -------------------------------------------------------


def never_answered(text: str, question: str, done: int, total: int) -> Prediction:
    return no_answer(text, question, done, total)


def test_a_settled_no_answer_stops_after_the_early_windows_and_the_rest_can_be_read(qtbot, store):
    total = 3 * EARLY_WINDOWS
    engine = FakeEngine(paced=True, windows=total, answers=never_answered)
    controller, recorder, _ = make(qtbot, store, engine)
    controller.open_text(TEXT, "Pasted text")
    controller.ask("What is the capital of Peru?")
    engine.release(EARLY_WINDOWS)
    qtbot.waitUntil(lambda: controller.stopped_early, timeout=5000)
    engine.release(total)
    finish(qtbot, controller)
    assert controller.prediction.windows == EARLY_WINDOWS
    assert engine.read_windows[-1] < total  # the engine was told to stop
    assert controller.stopped_early and controller.can_read_rest
    assert recorder.of("busy_changed") == [(True,), (False,)]
    assert recorder.states()[-1].startswith("No answer in the most relevant 33% of the text, so reading stopped")
    # No answer is selected: guesses are not answers.
    assert {row for row, _ in recorder.of("selection_changed")} == {-1}

    controller.read_rest()
    engine.release(total + 1)
    finish(qtbot, controller)
    assert controller.prediction.windows == total  # read on to the end, with no early stop this time
    assert not controller.stopped_early and not controller.can_read_rest
    assert recorder.states()[-1].startswith("After reading the whole text: answered in")
    assert recorder.states()[-1].endswith("the whole text read.")
    assert recorder.of("note_changed") == []  # still no answer: nothing to retract


def test_a_verdict_that_changes_after_reading_the_rest_says_so(qtbot, store):
    total = 3 * EARLY_WINDOWS

    def answered_at_the_end(text, question, done, total):
        return no_answer(text, question, done, total) if done < total else prediction(text, question, done, total)

    engine = FakeEngine(paced=True, windows=total, answers=answered_at_the_end)
    controller, recorder, _ = make(qtbot, store, engine)
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    engine.release(EARLY_WINDOWS)
    qtbot.waitUntil(lambda: controller.stopped_early, timeout=5000)
    controller.read_rest()
    engine.release(total + 1)
    finish(qtbot, controller)
    assert controller.prediction.has_answer
    ((note,),) = recorder.of("note_changed")
    assert note == (
        "After reading the whole text, these answers replace the earlier verdict: its most relevant 33% held none "
        "(97% no answer)."
    )
    controller.ask("Where did she move?")  # a new question: the note goes with the old answers
    engine.release(total)
    finish(qtbot, controller)
    assert recorder.of("question_started")[-1] == ("Where did she move?",)


def test_an_answer_found_in_the_early_windows_reads_on(qtbot, store):
    def late_answer(text, question, done, total):
        return (
            no_answer(text, question, done, total) if done < EARLY_WINDOWS else prediction(text, question, done, total)
        )

    engine = FakeEngine(windows=2 * EARLY_WINDOWS, answers=late_answer)
    controller, recorder, _ = make(qtbot, store, engine)
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    finish(qtbot, controller)
    assert controller.prediction.windows == 2 * EARLY_WINDOWS and not controller.stopped_early
    # The view waits for the first real answer to move.
    assert recorder.of("selection_changed")[0] == (-1, False)
    assert (0, True) in recorder.of("selection_changed")


def test_the_verdict_rule():
    text = TEXT
    assert settled_without_answer(no_answer(text, "q", EARLY_WINDOWS, 100))
    assert not settled_without_answer(no_answer(text, "q", EARLY_WINDOWS - 8, 100))  # too early
    assert not settled_without_answer(no_answer(text, "q", 100, 100))  # nothing left to skip
    assert not settled_without_answer(prediction(text, "q", EARLY_WINDOWS, 100))


def test_recent_files_that_no_longer_exist_are_forgotten(store, tmp_path):
    kept, gone = tmp_path / "kept.txt", tmp_path / "gone.txt"
    for path in (kept, gone):
        path.write_text("x")
        store.add_recent_file(path)
    gone.unlink()
    assert store.existing_recent_files() == [str(kept.resolve())]
    assert store.recent_files() == [str(kept.resolve())]


def test_a_document_or_question_not_in_english_is_named_with_what_the_model_reads(qtbot, store):
    controller, recorder, _ = make(qtbot, store)
    german = "Die Einstellungen werden in einer Datei im Benutzerordner gespeichert, und man kann sie ändern. " * 5
    controller.open_text(german, "Pasted text")
    assert recorder.states()[-1].endswith(
        "It seems to be in German; the model reads English, so its answers may be wrong or missing."
    )
    controller.ask("Wo werden die Einstellungen gespeichert?")
    finish(qtbot, controller)
    assert recorder.of("note_changed") == [
        ("This question seems to be in German; the model reads English, so its answers may be wrong or missing.",)
    ]
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    finish(qtbot, controller)
    assert len(recorder.of("note_changed")) == 1  # English: nothing more to say


# -- several documents, one tab each -------------------------------------------------------------


def test_each_open_document_keeps_its_question_answers_and_selection(qtbot, store):
    controller, recorder, _ = make(qtbot, store)
    controller.open_text(TEXT, "First")
    first = controller.current
    controller.ask("Where was Curie born?")
    finish(qtbot, controller)
    controller.choose(0)
    controller.open_text("Pierre Curie was born in Paris.\n", "Second")
    assert [name for _, name in recorder.of("documents_changed")[-1][0]] == ["First", "Second"]
    assert controller.prediction is None and controller.question == ""
    mark = len(recorder.events)
    controller.switch_to(first.document.id)
    later = recorder.since(mark)
    assert later.of("document_changed") == [(first.document,)]
    assert later.of("answers_changed") == [(first.prediction,)]
    assert later.of("selection_changed") == [(0, False)]  # the view goes to the reader's place, not the answer
    assert controller.question == "Where was Curie born?" and controller.current is first


def test_switching_away_stops_the_read_and_its_answers_so_far_can_be_read_on(qtbot, store):
    engine = FakeEngine(paced=True)
    controller, _, _ = make(qtbot, store, engine)
    first_answers(qtbot, controller, engine, "Where was Curie born?")
    first = controller.current
    controller.open_text("Pierre Curie was born in Paris.\n", "Second")
    engine.release(WINDOWS)
    controller.pool.waitForDone(5000)
    assert engine.read_windows[-1] < WINDOWS  # the first document's read was stopped
    controller.switch_to(first.document.id)
    assert controller.prediction.windows == PARTIAL_WINDOWS and controller.can_read_rest


def test_closing_shows_the_tab_beside_and_the_last_close_empties_the_window(qtbot, store):
    controller, recorder, _ = make(qtbot, store)
    for name in ("One", "Two", "Three"):
        controller.open_text(f"{name} is a short text about nothing.\n", name)
    ids = [document_id for document_id, _ in controller.open_documents()]
    controller.switch_to(ids[1])
    controller.close_document()
    assert controller.document.name == "Three"
    controller.close_document(ids[0])  # not the one shown: it stays shown
    assert controller.document.name == "Three" and [n for _, n in controller.open_documents()] == ["Three"]
    controller.close_document()
    assert controller.current is None and recorder.of("all_closed") == [()]
    assert recorder.of("documents_changed")[-1] == ([],)


def test_past_the_limit_the_document_shown_longest_ago_closes_but_never_unkept_text(qtbot, store, monkeypatch):
    controller, _, _ = make(qtbot, store)
    monkeypatch.setattr(controller.documents, "limit", 3)
    monkeypatch.setattr(pasted, "MAX_PASTE_BYTES", 10)
    controller.open_text("A text too long to be kept, and so kept nowhere else.\n", "Unkept")
    monkeypatch.setattr(pasted, "MAX_PASTE_BYTES", 2**20)
    for name in ("Two", "Three", "Four", "Five"):
        controller.open_text(f"{name} is a short text about nothing.\n", name)
    assert [name for _, name in controller.open_documents()] == ["Unkept", "Four", "Five"]
