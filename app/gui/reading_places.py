"""The reader's place in each document, kept across restarts: a document opens where they left it,
or at its start, never elsewhere.

A place is the character of the document's text at the top of the view (for pages, the first of
the page in the middle of the view), so it holds whatever the window's size or the text's zoom.
The last ``MAX_PLACES`` documents' places are kept by their file, in the settings. A place is
taken when another document replaces this one and when the window closes, and given back once
the new document is on screen, unless the reader or an answer has moved the view first.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from .document_views import DocumentViews
from .settings import Store


class ReadingPlaces(QObject):
    def __init__(self, views: DocumentViews, store: Store) -> None:
        super().__init__(views)
        self.views = views
        self.store = store
        self._shown: str | None = None  # the file of the document on screen
        self._pending: int | None = None  # where the document on screen goes once it is shown
        views.display_ready.connect(self._display_ready)
        views.reader_moved.connect(self.view_taken)

    def showing(self, origin: str | None) -> None:
        """Another document replaces the one on screen (``origin``: its file; None: pasted text
        with no copy): keep the old one's place; the new one opens at its own, or at its start."""
        self.remember()
        self._shown = str(Path(origin).resolve()) if origin else None
        self._pending = (self.store.place(self._shown) if self._shown else None) or 0

    def view_taken(self) -> None:
        """The reader, or an answer brought into view, moved the view: it stays where it is."""
        self._pending = None

    def remember(self) -> None:
        """Keep the place in the document on screen (when it is shown, and has a file)."""
        if self._shown is not None and self._pending is None and self.views.ready:
            self.store.save_place(self._shown, self.views.top_offset())

    def _display_ready(self) -> None:
        if self._pending is None:
            return
        place, self._pending = self._pending, None
        self.views.show_at_top(place)
