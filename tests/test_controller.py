"""The window's controller with a fake engine: what it shows, in which order, and the races.

The engine is faked (a reader whose pace the test sets window by window) so each case runs in
milliseconds without a model; tests/test_gui.py drives the real window on the real model.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QThreadPool

from reading_assistant.core.decoding import Answer
from reading_assistant.core.engine import PARTIAL_WINDOWS, Prediction
from reading_assistant.core.errors import Cancelled, ModelError
from reading_assistant.gui.controller import WAITING_FOR_MODEL, ReadingController
from reading_assistant.gui.settings import Store

TEXT = "Marie Curie was born in Warsaw.\r\nShe moved to Paris in 1891."
WINDOWS = 24


class FakeEngine:
    """Reads ``WINDOWS`` windows; with ``paced`` each window waits for the test to release it."""

    name = "fake-model"
    device_name = "CPU"
    warnings: tuple[str, ...] = ()
    folder = SimpleNamespace(path=Path("fake-model"))

    def __init__(self, paced: bool = False) -> None:
        self.paced = paced
        self.windows = threading.Semaphore(0)
        self.prepared: list[str] = []

    def release(self, count: int) -> None:
        for _ in range(count):
            self.windows.release()

    def prepare(self, text: str) -> None:
        self.prepared.append(text)

    def ask(self, document, question, options=None, on_progress=None, should_stop=None, on_partial=None):
        for done in range(1, WINDOWS + 1):
            if self.paced and not self.windows.acquire(timeout=10):
                raise AssertionError("the test never released this window")
            if should_stop is not None and should_stop():
                raise Cancelled("stopped")
            on_progress(done, WINDOWS)
            if done % PARTIAL_WINDOWS == 0 and done < WINDOWS:
                on_partial(prediction(document, question, done))
        return prediction(document, question, WINDOWS)


def prediction(text: str, question: str, windows: int) -> Prediction:
    start = text.index("Warsaw")
    answer = Answer("Warsaw", start, start + 6, 0.9, 5.0)
    return Prediction(question, [answer], 0.05, -4.0, True, windows, 0.01, WINDOWS, 300)


class Recorder:
    """Every signal the controller sends, in order, as (name, arguments)."""

    NAMES = (
        *("engine_loading", "engine_ready", "engine_failed", "document_changed", "question_started"),
        *("answers_changed", "progress_changed", "busy_changed", "status_changed", "timing_changed"),
        *("recent_changed", "error"),
    )

    def __init__(self, controller: ReadingController) -> None:
        self.events: list[tuple[str, tuple]] = []
        for name in self.NAMES:
            getattr(controller, name).connect(lambda *args, name=name: self.events.append((name, args)))

    def of(self, name: str) -> list[tuple]:
        return [args for event, args in self.events if event == name]

    def statuses(self) -> list[str]:
        return [args[0] for args in self.of("status_changed")]


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


def first_answers(qtbot, controller: ReadingController, engine: FakeEngine, question: str) -> None:
    """Open the text, ask, and let the paced engine read until its first answers are shown."""
    controller.open_text(TEXT, "Pasted text")
    controller.ask(question)
    engine.release(PARTIAL_WINDOWS)
    qtbot.waitUntil(lambda: controller.prediction is not None, timeout=5000)


def finish(qtbot, controller: ReadingController) -> None:
    qtbot.waitUntil(lambda: not controller.reading, timeout=5000)
    controller.pool.waitForDone(5000)
    qtbot.wait(20)  # let queued signals of finished jobs arrive


def test_a_question_is_read_and_answered_once_with_one_status(qtbot, store):
    controller, recorder, engine = make(qtbot, store)
    assert controller.open_text(TEXT, "Pasted text")
    assert controller.document.text == TEXT.replace("\r\n", "\n")  # the loaders' rules
    controller.ask("  Where was Curie born?  ")
    finish(qtbot, controller)
    answers = recorder.of("answers_changed")
    assert [p.windows for p, _ in answers] == [8, 16, 24]
    assert [reveal for _, reveal in answers] == [True, False, False]  # the view moves once
    assert controller.prediction.question == "Where was Curie born?"
    assert recorder.of("busy_changed") == [(True,), (False,)]
    assert recorder.of("question_started") == [("Where was Curie born?",)]
    assert recorder.of("timing_changed")[-1][0].startswith("Answered in")
    assert "Pasted text: 12 words" in recorder.statuses()
    assert engine.prepared == [controller.document.text]


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
    assert recorder.statuses()[-1] == WAITING_FOR_MODEL
    opened.set()
    qtbot.waitUntil(lambda: controller.prediction is not None and not controller.reading, timeout=5000)
    finish(qtbot, controller)
    assert recorder.statuses()[-1] == ""
    assert controller.prediction.windows == WINDOWS


def test_a_new_question_during_a_read_replaces_it_without_a_stale_answer(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "What did Curie study?")
    controller.ask("Where was Curie born?")
    engine.release(2 * WINDOWS + 2)
    finish(qtbot, controller)
    questions = [p.question for p, _ in recorder.of("answers_changed")]
    assert questions[0] == "What did Curie study?"
    assert set(questions[1:]) == {"Where was Curie born?"}
    assert controller.prediction.question == "Where was Curie born?"
    assert controller.prediction.windows == WINDOWS
    # No "Stopped early" for a question the reader replaced, and the busy state ends once.
    assert not any(status.startswith("Stopped early") for status in recorder.statuses())
    assert recorder.of("busy_changed")[-1] == (False,)


def test_a_new_document_during_a_read_stops_it_and_drops_its_answers(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "Where was Curie born?")
    controller.open_text("Pierre Curie was born in Paris.", "Second")
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert controller.document.name == "Second"
    assert controller.prediction is None
    assert len(recorder.of("answers_changed")) == 1  # only the one shown before the new document


def test_escape_keeps_the_answers_found_so_far(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    first_answers(qtbot, controller, engine, "Where was Curie born?")
    controller.cancel()
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert controller.prediction.windows == PARTIAL_WINDOWS
    assert recorder.statuses()[-1].startswith("Stopped early: the answers come from 8 windows read")
    assert recorder.of("busy_changed") == [(True,), (False,)]


def test_escape_before_any_answer_says_cancelled(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    controller.cancel()
    engine.release(WINDOWS)
    finish(qtbot, controller)
    assert controller.prediction is None
    assert recorder.statuses()[-1] == "Cancelled."
    assert recorder.of("answers_changed") == []


def test_closing_during_a_read_sends_nothing_more(qtbot, store):
    controller, recorder, engine = make(qtbot, store, FakeEngine(paced=True))
    controller.open_text(TEXT, "Pasted text")
    controller.ask("Where was Curie born?")
    engine.release(2)
    qtbot.waitUntil(lambda: bool(recorder.of("progress_changed")), timeout=5000)
    controller.shutdown()
    seen = len(recorder.events)
    engine.release(WINDOWS)
    controller.pool.waitForDone(5000)
    qtbot.wait(50)
    assert len(recorder.events) == seen


def test_a_model_that_cannot_open_is_reported_and_the_waiting_question_dropped(qtbot, store):
    def broken(settings):
        raise ModelError("the model folder /nowhere has no .onnx file")

    controller = ReadingController(store, QThreadPool(), broken)
    recorder = Recorder(controller)
    controller.open_text(TEXT, "Pasted text")
    controller.load_engine()
    controller.ask("Where was Curie born?")
    qtbot.waitUntil(lambda: bool(recorder.of("error")), timeout=5000)
    title, message = recorder.of("error")[0]
    assert title == "The model could not be loaded" and "no .onnx file" in message
    assert recorder.of("engine_failed") == [("the model folder /nowhere has no .onnx file",)]
    assert recorder.statuses()[-1] == ""
    assert controller.engine is None and controller.prediction is None


def test_a_file_that_cannot_be_read_keeps_the_open_document(qtbot, store, tmp_path):
    controller, recorder, _ = make(qtbot, store)
    controller.open_text(TEXT, "Pasted text")
    bad = tmp_path / "data.txt"
    bad.write_bytes(b"\x00\x01\x02" * 50)
    controller.open_file(bad, question="Where?")
    qtbot.waitUntil(lambda: bool(recorder.of("error")), timeout=5000)
    assert recorder.of("error")[0][0] == "This document cannot be opened"
    assert "binary" in recorder.of("error")[0][1]
    assert controller.document.name == "Pasted text"
    assert recorder.of("question_started") == []  # the question waited for a file that never came


def test_empty_or_blank_text_is_refused_with_a_message(qtbot, store):
    controller, recorder, _ = make(qtbot, store)
    assert not controller.open_text(" \n\t ", "Pasted text")
    assert controller.document is None
    assert recorder.statuses()[-1] == "Pasted text has no text"


def test_a_file_opened_with_a_question_is_asked_and_remembered(qtbot, store, tmp_path):
    controller, recorder, _ = make(qtbot, store)
    path = tmp_path / "curie.txt"
    path.write_text(TEXT, encoding="utf-8")
    controller.open_file(path, question="Where was Curie born?")
    qtbot.waitUntil(lambda: controller.prediction is not None and not controller.reading, timeout=5000)
    finish(qtbot, controller)
    assert recorder.of("recent_changed") == [([str(path.resolve())],)]
    assert controller.prediction.answers[0].text == "Warsaw"
