"""What the window holds of each open document: the question asked of it, its answers, which one is
selected, and how much of it the read took. The controller keeps one per open document."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.documents import Document
from ..core.reading import Prediction, Span


@dataclass(eq=False)
class DocumentState:
    """One open document and what the window shows of it: the question asked of it, its answers,
    which of them is selected, and how much of it the read took."""

    document: Document
    path: Path | None = None
    unkept: bool = False  # text the reader brought that exists nowhere else (a paste too large to keep)
    question: str = ""
    prediction: Prediction | None = None
    selected: int = -1
    read_plan: list[Span] = field(default_factory=list)
    windows_read: int = 0
    stopped_early: bool = False  # the last read stopped on a settled "no answer"
    chosen: Span | None = None  # the span the reader chose; None: the best answer
    view_follows: bool = False  # the view goes to the selected answer (the reader has not moved it)
    revealed: Span | None = None  # the answer the view last went to
    read_all: bool = False  # the read is Read the Rest, which never stops early
    shown_before: Prediction | None = None  # what was shown when Read the Rest began

    def clear_answers(self) -> None:
        self.prediction = None
        self.selected = -1
        self.chosen = None
        self.view_follows = False
        self.revealed = None
        self.shown_before = None
        self.read_plan = []
        self.windows_read = 0
        self.stopped_early = False
