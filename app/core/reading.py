"""What a read says as it goes, and what a reader of documents needs of an engine.

``QAEngine.read`` yields these events, in this order for each question: ``Planned`` (the windows it
will read), then ``Progress`` after every batch, ``Answers`` with the best answers so far, and
``Answers`` with ``final`` set once its last window is read. ``ask`` and ``ask_many`` keep the final
answers; the window's task turns every event into a signal. ``ReadingEngine`` is what the window
asks of an engine: ``QAEngine`` is one, and the window's tests drive a fake one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from .decoding import Answer
from .documents import Document
from .options import Choices
from .windows import TokenizedText

# A character span of a document: (start, end), end excluded.
Span = tuple[int, int]
StopCheck = Callable[[], bool]
ProgressCallback = Callable[[int, int], None]
# What a read takes as a document: its text, its tokens, or the Document itself (whose answers
# then name it).
DocumentInput = str | TokenizedText | Document
# Tokens an index kept of a document (the library's), for the engine to take instead of tokenizing.
KeptTokens = Callable[[], TokenizedText | None]
# What a document's passages mean to a question: (start, end, cosine) of each, from an index that
# embedded them (the library); nothing when it knows the document not.
MeaningLookup = Callable[[DocumentInput, str], Sequence[tuple[int, int, float]]]


@dataclass(frozen=True)
class Prediction:
    question: str
    answers: list[Answer]
    no_answer_score: float
    null_odds: float  # no-answer logit minus the best span's logit
    has_answer: bool  # null odds at or below the model's threshold
    windows: int  # windows read for these answers
    seconds: float
    total_windows: int = 0  # windows the whole document makes for this question
    window_tokens: int = 0  # document tokens each of those windows holds


@dataclass(frozen=True)
class Planned:
    """Question ``index`` of the read reads these windows, in this order (the first ``n`` spans are
    what a read of ``n`` windows has read); its document makes ``total_windows`` in all."""

    index: int
    spans: list[Span]
    total_windows: int


@dataclass(frozen=True)
class Progress:
    """Windows read so far, over every question of the read."""

    done: int
    total: int


@dataclass(frozen=True)
class Answers:
    """Answers to question ``index`` of the read: the best so far, or ``final``."""

    index: int
    prediction: Prediction
    final: bool


ReadEvent = Planned | Progress | Answers


@runtime_checkable
class ReadingEngine(Protocol):
    """A model ready to read: what it is, where it runs, and reading as a stream of events."""

    @property
    def name(self) -> str: ...

    @property
    def device_name(self) -> str: ...

    @property
    def model_dir(self) -> Path: ...

    @property
    def warnings(self) -> Sequence[str]:
        """What the reader should know about how the model runs (a GPU that fell back to the CPU)."""
        ...

    @property
    def tokenizer_fingerprint(self) -> str:
        """Names the tokenizer by its content (tokens kept by the library are for one tokenizer)."""
        ...

    def prepare(self, text: str, should_stop: StopCheck | None = None, kept: KeptTokens | None = None) -> object:
        """Tokenize and index a document ahead of its first question (``kept``: tokens made of it
        before by this tokenizer, when an index keeps them)."""
        ...

    def read(
        self,
        questions: Sequence[tuple[DocumentInput, str]],
        choices: Choices = ...,
        source: str = ...,
        meaning: MeaningLookup | None = None,
    ) -> Iterator[ReadEvent]:
        """Read the documents for their questions, yielding events; stops when the consumer stops.
        ``meaning`` ranks a document's windows by meaning beside words where it knows the document."""
        ...
