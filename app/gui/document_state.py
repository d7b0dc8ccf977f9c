"""What the window holds of each open document: the question asked of it, its answers, which one is
selected, and how much of it the read took; and the open documents, one per tab. The controller
keeps them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from ..core.documents import Document
from ..core.reading import Prediction, Span

MAX_OPEN = 10  # documents open at once, each in its tab


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
    shown_order: int = 0  # when it was last shown, in the order of the window's tabs being shown

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


class OpenDocuments:
    """The documents open in the window, in their tabs' order, and the one shown.

    At most ``limit``: opening one more closes the one shown longest ago (its place is kept and it
    is in Recent), never the one shown nor pasted text that exists nowhere else. Opening a file
    that is open already replaces it in its tab (it is read again).
    """

    def __init__(self, limit: int = MAX_OPEN) -> None:
        self.limit = limit
        self.states: list[DocumentState] = []
        self.current: DocumentState | None = None
        self._shown = itertools.count()

    def __len__(self) -> int:
        return len(self.states)

    def by_id(self, document_id: str) -> DocumentState | None:
        return next((s for s in self.states if s.document.id == document_id), None)

    def add(self, state: DocumentState) -> list[DocumentState]:
        """Open ``state`` beside the one shown, and show it; the states it closed."""
        same = next((s for s in self.states if state.path is not None and s.path == state.path), None)
        if same is not None:
            self.states[self.states.index(same)] = state
        else:
            at = self.states.index(self.current) + 1 if self.current in self.states else len(self.states)
            self.states.insert(at, state)
        self.show(state)
        closed = [same] if same is not None else []
        while len(self.states) > self.limit:
            spare = [s for s in self.states if s is not state and not s.unkept]
            if not spare:
                break
            oldest = min(spare, key=lambda s: s.shown_order)
            self.states.remove(oldest)
            closed.append(oldest)
        return closed

    def show(self, state: DocumentState) -> None:
        self.current = state
        state.shown_order = next(self._shown)

    def remove(self, state: DocumentState) -> DocumentState | None:
        """Close ``state``; the one to show next if it was shown (the tab after it, else before)."""
        index = self.states.index(state)
        self.states.remove(state)
        if state is not self.current:
            return self.current
        self.current = None
        return self.states[min(index, len(self.states) - 1)] if self.states else None
