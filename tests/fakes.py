"""Stand-ins for what cannot be paced in a test: an engine whose every window the test releases.

``FakeEngine`` implements ``core.reading.ReadingEngine`` the way ``QAEngine`` does (the same
events in the same order), so the window's controller is tested in milliseconds, without a model,
and with every race at a place the test chooses; tests/test_gui.py drives the real window on the
real model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from reading_assistant.core.decoding import Answer
from reading_assistant.core.engine import PARTIAL_WINDOWS
from reading_assistant.core.options import MODELS_OWN, Choices
from reading_assistant.core.reading import (
    Answers,
    DocumentInput,
    MeaningLookup,
    Planned,
    Prediction,
    Progress,
    ReadEvent,
)

WINDOWS = 24


def answer(text: str, word: str, score: float = 0.9) -> Answer:
    start = text.index(word)
    return Answer(word, start, start + len(word), score, 5.0)


def prediction(text: str, question: str, windows: int, total: int = WINDOWS) -> Prediction:
    return Prediction(question, [answer(text, "Warsaw")], 0.05, -4.0, True, windows, 0.01, total, 300)


def no_answer(text: str, question: str, windows: int, total: int) -> Prediction:
    return Prediction(question, [answer(text, "Paris", 0.004)], 0.97, 3.0, False, windows, 0.01, total, 300)


class FakeEngine:
    """Reads ``windows`` windows; with ``paced`` each window waits for the test to release it.

    ``answers(text, question, windows_read, total)`` makes each prediction (default: "Warsaw").
    It records the documents prepared, the windows each read took, and the choices and the meaning
    lookup each read was asked with.
    """

    name = "fake-model"
    device_name = "CPU"
    model_dir = Path("fake-model")
    warnings: tuple[str, ...] = ()
    tokenizer_fingerprint = "fake-tokenizer"

    def __init__(self, paced: bool = False, windows: int = WINDOWS, answers: Callable | None = None) -> None:
        self.paced = paced
        self.total = windows
        self.answers = answers or prediction
        self.windows = threading.Semaphore(0)
        self.prepared: list[str] = []
        self.read_windows: list[int] = []  # windows each read had reached when it ended or was closed
        self.choices: list[Choices] = []  # what each read was asked with
        self.meanings: list[MeaningLookup | None] = []

    def release(self, count: int) -> None:
        for _ in range(count):
            self.windows.release()

    def prepare(self, text: str, should_stop=None, kept=None) -> None:
        self.prepared.append(text)

    def plan(self, text: str) -> list[tuple[int, int]]:
        """Each window's span, in reading order (here: backwards)."""
        step = max(1, len(text) // self.total)
        return [(i * step, min(len(text), i * step + step)) for i in reversed(range(self.total))]

    def read(
        self,
        questions: Sequence[tuple[DocumentInput, str]],
        choices: Choices = MODELS_OWN,
        source: str = "",
        meaning: MeaningLookup | None = None,
    ) -> Iterator[ReadEvent]:
        ((document, question),) = questions
        self.meanings.append(meaning)
        text = document if isinstance(document, str) else document.text
        self.choices.append(choices)
        yield Planned(0, self.plan(text), self.total)
        done = 0
        try:
            for done in range(1, self.total + 1):
                if self.paced and not self.windows.acquire(timeout=10):
                    raise AssertionError("the test never released this window")
                yield Progress(done, self.total)
                if done % PARTIAL_WINDOWS == 0 and done < self.total:
                    yield Answers(0, self.answers(text, question, done, self.total), False)
        finally:
            self.read_windows.append(done)
        yield Answers(0, self.answers(text, question, self.total, self.total), True)
