"""Asking the whole library: its best passages read by the reader model as one text.

The passages the search found, most relevant first, are put one after another, each under a
heading that names its document and place: the engine reads that text as it reads a book (ranked,
streaming, within the same budget), so its answers come out distinct and calibrated together, with
one verdict on whether the library answers at all. Each answer is then mapped back to its document
and the offsets of the answer in it.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from ..decoding import Answer
from ..documents import Document, Section
from ..errors import Cancelled
from ..evidence import Evidence, evidence
from ..options import MODELS_OWN, Choices
from ..reading import Answers, Prediction, ReadingEngine, StopCheck
from .search import PassageHit

SEPARATOR = "\n\n"
LIBRARY_FORMAT = "library"


@dataclass(frozen=True)
class LibraryAnswer:
    text: str
    score: float  # probability in [0, 1]
    path: str  # the document's file
    name: str
    start: int  # in the document's text (as the library keeps it)
    end: int
    location: str  # its page or section ("" for none)
    evidence: Evidence  # the sentence around it


@dataclass(frozen=True)
class LibraryPrediction:
    question: str
    answers: list[LibraryAnswer]
    no_answer_score: float
    has_answer: bool
    passages: int  # passages the search offered the reader
    documents: int  # documents they came from
    seconds: float


class ReadingSet:
    """The passages a library question reads, as one ``Document``; ``locate`` maps its answers back."""

    def __init__(self, hits: Sequence[PassageHit], name: str = "your library") -> None:
        self.hits = list(hits)
        parts, sections, starts = [], [], []
        offset = 0
        for hit in self.hits:
            label = f"{hit.name} · {hit.location}" if hit.location else hit.name
            sections.append(Section(offset, label))
            starts.append(offset)
            parts.append(hit.text)
            offset += len(hit.text) + len(SEPARATOR)
        self.starts = starts
        self.document = Document(text=SEPARATOR.join(parts), name=name, format=LIBRARY_FORMAT, sections=tuple(sections))

    def locate(self, answer: Answer) -> LibraryAnswer:
        piece = bisect_right(self.starts, answer.start) - 1
        hit = self.hits[piece]
        shift = hit.start - self.starts[piece]
        return LibraryAnswer(
            text=answer.text,
            score=answer.score,
            path=hit.path,
            name=hit.name,
            start=answer.start + shift,
            end=answer.end + shift,
            location=hit.location,
            evidence=evidence(self.document.text, answer.start, answer.end),
        )

    def prediction(self, prediction: Prediction, seconds: float) -> LibraryPrediction:
        return LibraryPrediction(
            question=prediction.question,
            answers=[self.locate(answer) for answer in prediction.answers],
            no_answer_score=prediction.no_answer_score,
            has_answer=prediction.has_answer and bool(prediction.answers),
            passages=len(self.hits),
            documents=len({hit.document_id for hit in self.hits}),
            seconds=seconds,
        )


def ask_passages(
    engine: ReadingEngine,
    hits: Sequence[PassageHit],
    question: str,
    choices: Choices = MODELS_OWN,
    should_stop: StopCheck | None = None,
    started: float | None = None,
) -> LibraryPrediction:
    """Read the passages the search found for ``question``; with none, "not in your library"."""
    started = time.perf_counter() if started is None else started
    if not hits:
        return LibraryPrediction(question, [], 1.0, False, 0, 0, time.perf_counter() - started)
    reading = ReadingSet(hits)
    for event in engine.read([(reading.document, question)], choices):
        if isinstance(event, Answers) and event.final:
            return reading.prediction(event.prediction, time.perf_counter() - started)
        if should_stop is not None and should_stop():
            raise Cancelled("stopped")
    raise AssertionError("a read ends with the answers to its question")
