"""The page view's worker: one thread that opens a PDF, draws its pages and reads their characters,
so the window never waits on pdfium (which is not thread-safe: core's pages module holds the one
process-wide lock for every call).

The view says which pages it wants, nearest first, at what scale; the worker drops what is no
longer wanted, so scrolling fast through a long PDF draws only the pages the reader stops at.
Results carry the generation of the document they belong to, and a late one is ignored.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from ..core.documents.page_files import Pages, open_pages
from ..core.documents.pages import OutlineEntry, PageInfo, PageText
from ..core.errors import ReadingAssistantError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageSet:
    """What the view lays out with before any page is drawn."""

    sizes: np.ndarray  # (pages, 2) points, as shown
    labels: list[str]
    outline: list[OutlineEntry]


@dataclass(frozen=True)
class PageDetail:
    info: PageInfo
    text: PageText


class PageWorker(QObject):
    opened = Signal(int, object)  # generation, PageSet
    open_failed = Signal(int, object)  # generation, the ReadingAssistantError (a PasswordNeeded asks for one)
    rendered = Signal(int, int, float, QImage)  # generation, page, scale, image
    detailed = Signal(int, int, object)  # generation, page, PageDetail
    page_failed = Signal(int, int, str)  # generation, page, why

    def __init__(self) -> None:
        super().__init__()
        self._condition = threading.Condition()
        self._generation = 0
        self._open: tuple[str, str | None] | None = None  # a file to open next
        self._wanted: list[int] = []
        self._scale = 1.0
        self._drawn: set[tuple[int, float]] = set()
        self._detailed: set[int] = set()
        self._stopping = False
        self._pages: Pages | None = None
        self._thread = threading.Thread(target=self._run, name="page-worker", daemon=True)
        self._thread.start()
        _workers.add(self)

    def open(self, generation: int, path: str, password: str | None) -> None:
        with self._condition:
            self._generation, self._open, self._wanted = generation, (path, password), []
            self._drawn, self._detailed = set(), set()
            self._condition.notify()

    def want(self, pages: list[int], scale: float, need_drawing: set[int]) -> None:
        """Draw ``pages`` (the first first) at ``scale`` and read their characters; pages not in
        ``need_drawing`` already have a picture at this scale and only need their characters."""
        with self._condition:
            self._wanted, self._scale = list(pages), scale
            self._drawn = {key for key in self._drawn if key[1] == scale and key[0] not in need_drawing}
            self._condition.notify()

    def forget_details(self, pages: set[int]) -> None:
        """The view dropped these pages' characters from its cache: read them again when wanted."""
        with self._condition:
            self._detailed -= pages

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join(timeout=3.0)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopping and self._open is None and self._next_job() is None:
                    self._condition.wait()
                if self._stopping:
                    break
                generation, opening = self._generation, self._open
                self._open = None
                job = None if opening else self._next_job()
            try:
                if opening is not None:
                    self._open_file(generation, *opening)
                elif job is not None:
                    self._do(generation, *job)
            except RuntimeError:  # the view was deleted while a signal was on its way
                break
        if self._pages is not None:
            self._pages.close()

    def _next_job(self) -> tuple[str, int, float] | None:
        if self._pages is None:
            return None
        for page in self._wanted:
            if (page, self._scale) not in self._drawn:
                return ("draw", page, self._scale)
            if page not in self._detailed:
                return ("read", page, self._scale)
        return None

    def _open_file(self, generation: int, path: str, password: str | None) -> None:
        if self._pages is not None:
            self._pages.close()
            self._pages = None
        try:
            pages = open_pages(path, password)
            page_set = PageSet(pages.sizes(), pages.labels(), pages.outline())
        except ReadingAssistantError as error:
            self.open_failed.emit(generation, error)
            return
        except Exception as error:  # pdfium on a hostile file: one sentence, details in the log
            log.debug("opening %s failed", path, exc_info=True)
            self.open_failed.emit(generation, ReadingAssistantError(f"the pages cannot be shown: {error}"))
            return
        with self._condition:
            current = generation == self._generation
            self._pages = pages if current else None
        if current:
            self.opened.emit(generation, page_set)
        else:
            pages.close()

    def _do(self, generation: int, kind: str, page: int, scale: float) -> None:
        pages = self._pages
        assert pages is not None
        result: QImage | PageDetail | None = None
        try:
            if kind == "draw":
                result = to_qimage(pages.render(page, scale))
            else:
                result = PageDetail(pages.info(page), pages.text(page))
        except MemoryError:
            self.page_failed.emit(generation, page, "there is not enough memory to draw this page")
        except Exception as error:  # one bad page: the others still show
            log.debug("page %d failed", page + 1, exc_info=True)
            self.page_failed.emit(generation, page, f"this page cannot be drawn ({type(error).__name__})")
        with self._condition:
            if generation != self._generation:
                return
            # Done, or failed: either way not tried again at this scale.
            if kind == "draw":
                self._drawn.add((page, scale))
            else:
                self._detailed.add(page)
        if isinstance(result, QImage):
            self.rendered.emit(generation, page, scale, result)
        elif isinstance(result, PageDetail):
            self.detailed.emit(generation, page, result)


def to_qimage(pixels: np.ndarray) -> QImage:
    """RGB rows as a QImage that owns its pixels (the array may go away)."""
    height, width = pixels.shape[:2]
    pixels = np.ascontiguousarray(pixels)
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB888)
    return image.copy()


_workers: weakref.WeakSet[PageWorker] = weakref.WeakSet()


@atexit.register
def _stop_workers() -> None:
    for worker in list(_workers):
        worker.stop()
