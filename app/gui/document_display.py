"""What the window, the find bar and the read map ask of a document's view, whatever its kind.

The text view (``text_view.TextView``) shows every format today; a view of another kind (a PDF's
pages) implements the same three interfaces and ``document_pane`` shows it for its formats, so
neither the window nor the find bar nor the read map changes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import SignalInstance

from ..core.decoding import Answer
from ..core.documents import Document


@runtime_checkable
class Searchable(Protocol):
    """What the find bar needs: matches of a query, stepped through."""

    find_changed: SignalInstance  # a search's matches arrived (or the search failed)
    display_ready: SignalInstance  # the document given to the view is on screen

    @property
    def find_count(self) -> int: ...

    @property
    def find_pending(self) -> bool:
        """A search is still running (a long document is searched off the GUI thread)."""
        ...

    @property
    def find_error(self) -> str: ...

    def set_find(self, query: str) -> int:
        """Highlight every match; their number, or -1 while they are searched for."""
        ...

    def find_step(self, delta: int) -> int:
        """Go to the next (or previous) match; its index, or -1 without matches."""
        ...

    def clear_find(self) -> None: ...

    def selected_text(self) -> str:
        """What the reader selected, on one line, to search for; "" for none."""
        ...

    def setFocus(self) -> None: ...


@runtime_checkable
class Mappable(Protocol):
    """What the read map needs: where an offset of the text is in the view, and what is on screen."""

    view_changed: SignalInstance  # what is on screen changed
    reader_moved: SignalInstance  # the reader scrolled, clicked or moved in the view: it is theirs

    @property
    def ready(self) -> bool:
        """The document given to the view is shown (False while it is prepared)."""
        ...

    def fraction_of(self, offset: int) -> float:
        """Where character ``offset`` of the text sits in the view, 0 (top) to 1 (bottom)."""
        ...

    def rows_of(self, offsets: np.ndarray, rows: int) -> np.ndarray:
        """The row (0 to ``rows``) of each offset on a strip ``rows`` pixels high."""
        ...

    def visible_fraction(self) -> tuple[float, float]:
        """The part of the document on screen, from 0 to 1."""
        ...

    def scroll_to_fraction(self, fraction: float) -> None: ...


@runtime_checkable
class DocumentDisplay(Searchable, Mappable, Protocol):
    """A document's view, as the window uses it: show, highlight, select, zoom, stop."""

    display_failed: SignalInstance  # the document could not be shown: why

    @property
    def zoom(self) -> int:
        """Steps of text size above (below) the usual."""
        ...

    def show_document(self, document: Document) -> None: ...

    def highlight(self, answers: list[Answer], guesses: bool = False) -> None:
        """Mark every answer, stronger for higher confidence; guesses never look like answers."""
        ...

    def select_answer(self, answer: Answer | None, reveal: bool) -> None:
        """Put the selection on ``answer`` (None: clear it); bring it into view only if ``reveal``."""
        ...

    def set_zoom(self, steps: int) -> int:
        """Text size ``steps`` above the usual, within the view's range; the steps applied."""
        ...

    def shutdown(self) -> None:
        """The window is closing: stop the view's work and let no late result arrive."""
        ...
