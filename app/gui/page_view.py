"""The page view: a PDF as its pages, in continuous scroll, with answers boxed where they stand.

Pages are drawn by the worker thread (``page_worker``) at the screen's resolution and the reader's
zoom, only those on screen and next to it, and kept within a memory budget; until a page's picture
arrives its place is a blank sheet of the right size, so the layout never jumps. Answers, find
matches and the reader's selection are boxes over the page's characters (from pdfium, or from OCR
through the document's source map). It implements ``DocumentDisplay``, like the text view.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea

from ..core.decoding import Answer
from ..core.documents import Document
from ..core.errors import PasswordNeeded, ReadingAssistantError
from .colors import find_color, highlight_color, muted
from .page_finder import PageFinder
from .page_geometry import PageChars, PageIndex, ocr_page_chars
from .page_worker import PageDetail, PageSet, PageWorker

PAGE_GAP = 12  # pixels between pages, and around them
ZOOM_RANGE = (-8, 12)  # steps of 15% around the page's width fitting the view
ZOOM_STEP = 1.15
IMAGE_BUDGET_BYTES = 160 * 2**20  # pictures of pages kept, whatever the PDF's length
DETAIL_PAGES = 200  # pages whose characters are kept
NEAR_PAGES = 1  # pages drawn ahead of the screen, above and below


def on_page(page: QRectF, box: tuple[float, float, float, float]) -> QRectF:
    """A box in units of the shown page (0 to 1) in the pixels of the page drawn at ``page``."""
    x0, y0, x1, y1 = box
    return QRectF(
        page.x() + x0 * page.width(), page.y() + y0 * page.height(), (x1 - x0) * page.width(), (y1 - y0) * page.height()
    )


class PageView(QAbstractScrollArea):
    reader_moved = Signal()
    view_changed = Signal()
    display_ready = Signal()
    display_failed = Signal(str)
    find_changed = Signal()
    page_changed = Signal(int)  # the page at the middle of the screen (0 is the first)
    outline_ready = Signal(list)  # OutlineEntry list (empty: the PDF has none)

    def __init__(self, pool: QThreadPool | None = None, password_for: Callable[[str], str | None] = lambda _: None):
        super().__init__()
        self.pool = pool or QThreadPool.globalInstance()
        self.password_for = password_for
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(False)
        self.worker = PageWorker()
        self.worker.opened.connect(self._opened)
        self.worker.open_failed.connect(self._open_failed)
        self.worker.rendered.connect(self._rendered)
        self.worker.detailed.connect(self._detailed)
        self.worker.page_failed.connect(self._page_failed)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.horizontalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().actionTriggered.connect(lambda _: self._reader_moved())
        self._want_timer = QTimer(self, singleShot=True, interval=0)
        self._want_timer.timeout.connect(self._ask_for_pages)
        self.finder = PageFinder(self)
        self._generation = 0
        self._zoom = 0
        self._open_failed_once = False
        self.origin: str | None = None
        self.document: Document | None = None
        self._clear()

    def _clear(self) -> None:
        self.page_set: PageSet | None = None
        self.index = PageIndex(None, 0, 0)
        self._tops = np.zeros(1)
        self._images: OrderedDict[int, tuple[float, QImage]] = OrderedDict()
        self._image_bytes = 0
        self._chars: OrderedDict[int, PageChars] = OrderedDict()
        self._failed: dict[int, str] = {}
        self._answers: list[Answer] = []
        self._guesses = False
        self._chosen: Answer | None = None
        self._pending_reveal: tuple[int, int] | None = None
        self._selection: tuple[int, int, int] | None = None  # page, first and last character
        self._press: tuple[int, int] | None = None
        self._current_page = -1

    # -- showing a document -------------------------------------------------------------------

    @property
    def laid_out(self) -> bool:
        """The pages' sizes are known: they are on screen (their pictures follow)."""
        return self.page_set is not None

    @property
    def ready(self) -> bool:
        """The document given to the view is shown: its pages, and its text behind them."""
        return self.page_set is not None and self.document is not None

    @property
    def page_count(self) -> int:
        return 0 if self.page_set is None else len(self.page_set.sizes)

    def open_file(self, origin: str, document: Document | None = None) -> None:
        """Show the pages of the file ``origin``; ``document`` is its text, if it is read already (a
        PDF's pages show while its text is still being read, or read by OCR)."""
        self._generation += 1
        self._clear()
        self.finder.forget()
        self.origin, self.document = origin, document
        self._open_failed_once = False
        self.viewport().update()
        self.worker.open(self._generation, origin, self.password_for(origin))

    def show_document(self, document: Document) -> None:
        if document.origin is None:
            self.document = None
            self.display_failed.emit(f"{document.name} has no file to show the pages of")
            return
        if document.origin != self.origin or self.document is not None or self._open_failed_once:
            self.open_file(document.origin, document)
            return
        # The pages of this file are shown already (opened while its text was read): keep them.
        self.document = document
        self._chars.clear()
        self.worker.forget_details(set(range(self.page_count)))
        if self.page_set is not None:
            self._index_text()
            self.display_ready.emit()
            self.finder.document_shown()
            self._ask_for_pages()

    def _index_text(self) -> None:
        assert self.page_set is not None and self.document is not None
        self.index = PageIndex(self.document.source_map, len(self.page_set.sizes), len(self.document.text))

    def _opened(self, generation: int, page_set: PageSet) -> None:
        if generation != self._generation:
            return
        self.page_set = page_set
        self._layout()
        self.verticalScrollBar().setValue(0)
        self.outline_ready.emit(page_set.outline)
        self._ask_for_pages()
        self._scrolled()
        if self.document is None:
            return
        self._index_text()
        self.display_ready.emit()
        self.finder.document_shown()
        if self._pending_reveal is not None:
            self._reveal(*self._pending_reveal)

    def _open_failed(self, generation: int, error: ReadingAssistantError) -> None:
        if generation != self._generation:
            return
        self._open_failed_once = True
        # Pages shown while the file is read need its password: the reader is asked for it, and the
        # document, once open, opens its pages with it.
        if self.document is not None or not isinstance(error, PasswordNeeded):
            reason = "it needs its password" if isinstance(error, PasswordNeeded) else str(error)
            self.display_failed.emit(f"The pages cannot be shown: {reason}.")

    # -- geometry -----------------------------------------------------------------------------

    def scale(self) -> float:
        """Pixels a point: the widest page fits the view at zoom 0."""
        if self.page_set is None or not len(self.page_set.sizes):
            return 1.0
        widths = self.page_set.sizes[:, 0]
        # The widest page fits, unless it is an outlier (a poster in a book): then the book's pages do.
        widest = float(min(widths.max(), 3 * np.median(widths)))
        fit = max(50, self.viewport().width() - 2 * PAGE_GAP) / max(widest, 1.0)
        return max(0.05, min(fit, 4.0)) * ZOOM_STEP**self._zoom

    def _layout(self) -> None:
        if self.page_set is None:
            return
        heights = self.page_set.sizes[:, 1] * self.scale()
        self._tops = np.concatenate([[PAGE_GAP], PAGE_GAP + np.cumsum(heights + PAGE_GAP)])
        total = int(self._tops[-1])
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, total - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(max(20, self.viewport().height() // 20))
        widest = int(self.page_set.sizes[:, 0].max() * self.scale()) + 2 * PAGE_GAP
        across = self.horizontalScrollBar()
        across.setRange(0, max(0, widest - self.viewport().width()))
        across.setPageStep(self.viewport().width())

    def page_rect(self, page: int) -> QRectF:
        """Where page ``page`` is drawn, in the viewport's pixels."""
        assert self.page_set is not None
        width, height = self.page_set.sizes[page] * self.scale()
        content = max(self.viewport().width(), int(self.page_set.sizes[:, 0].max() * self.scale()) + 2 * PAGE_GAP)
        left = (content - width) / 2 - self.horizontalScrollBar().value()
        return QRectF(left, self._tops[page] - self.verticalScrollBar().value(), width, height)

    def visible_pages(self, margin: int = 0) -> range:
        if self.page_set is None:
            return range(0)
        top = self.verticalScrollBar().value()
        bottom = top + self.viewport().height()
        first = max(0, int(np.searchsorted(self._tops, top, side="right")) - 1 - margin)
        last = min(self.page_count, int(np.searchsorted(self._tops, bottom, side="right")) + margin)
        return range(first, last)

    def middle_page(self) -> int:
        middle = self.verticalScrollBar().value() + self.viewport().height() / 2
        return max(0, min(self.page_count - 1, int(np.searchsorted(self._tops, middle, side="right")) - 1))

    # -- pages from the worker ----------------------------------------------------------------

    def _scrolled(self) -> None:
        self._want_timer.start()
        self.viewport().update()
        self.view_changed.emit()
        page = self.middle_page() if self.laid_out else -1
        if page != self._current_page:
            self._current_page = page
            self.page_changed.emit(page)

    def render_scale(self) -> float:
        return round(self.scale() * self.devicePixelRatioF(), 4)

    def _ask_for_pages(self) -> None:
        if not self.laid_out:
            return
        near = list(self.visible_pages(NEAR_PAGES))
        middle = self.middle_page()
        near.sort(key=lambda page: abs(page - middle))
        scale = self.render_scale()
        stale = {page for page in near if self._images.get(page, (None,))[0] != scale}
        self.worker.want(near, scale, stale)

    def _rendered(self, generation: int, page: int, scale: float, image: QImage) -> None:
        if generation != self._generation:
            return
        image.setDevicePixelRatio(self.devicePixelRatioF())
        old = self._images.pop(page, None)
        if old is not None:
            self._image_bytes -= old[1].sizeInBytes()
        self._images[page] = (scale, image)
        self._image_bytes += image.sizeInBytes()
        visible = set(self.visible_pages(NEAR_PAGES))
        for other in list(self._images):
            if self._image_bytes <= IMAGE_BUDGET_BYTES:
                break
            if other not in visible:
                self._image_bytes -= self._images.pop(other)[1].sizeInBytes()
        self.viewport().update()

    def _detailed(self, generation: int, page: int, detail: PageDetail) -> None:
        if generation != self._generation:
            return
        size = (detail.info.width, detail.info.height)
        chars = None if self.document is None else ocr_page_chars(self.document, page, size)
        if chars is None:
            chars = PageChars(detail.text.text, detail.info.view_boxes(detail.text.boxes))
        self._chars[page] = chars
        while len(self._chars) > DETAIL_PAGES:
            self.worker.forget_details({self._chars.popitem(last=False)[0]})
        if self._pending_reveal is not None:
            self._reveal(*self._pending_reveal)
        self.viewport().update()

    def _page_failed(self, generation: int, page: int, message: str) -> None:
        if generation == self._generation:
            self._failed[page] = message
            self.viewport().update()

    def page_chars(self, page: int) -> PageChars | None:
        chars = self._chars.get(page)
        if chars is not None:
            self._chars.move_to_end(page)
        return chars

    # -- drawing ------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        palette = self.palette()
        painter.fillRect(self.viewport().rect(), palette.color(QPalette.ColorRole.Mid))
        if not self.laid_out:
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            text = "Opening the pages…" if self.document is not None else ""
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, text)
            return
        for page in self.visible_pages():
            rect = self.page_rect(page)
            painter.fillRect(rect, QColor("white"))
            drawn = self._images.get(page)
            if drawn is not None:
                painter.drawImage(rect, drawn[1])
            elif page in self._failed:
                painter.setPen(muted(palette))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._failed[page])
            self._draw_marks(painter, page, rect)

    def _draw_marks(self, painter: QPainter, page: int, rect: QRectF) -> None:
        chars = self.page_chars(page)
        if chars is None or self.document is None or self.document.source_map is None:
            return
        palette = self.palette()
        source = self.document.source_map

        def boxes(start: int, end: int) -> list[QRectF]:
            found = []
            for span in source.page_spans(start, end):
                if span.page == page:
                    found += [
                        on_page(rect, box).adjusted(-1, -1, 1, 1) for box in chars.span_rects(span.first, span.count)
                    ]
            return found

        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(find_color(palette))
        for start, end in zip(*self.finder.spans_on(page), strict=True):
            for box in boxes(int(start), int(end)):
                painter.drawRect(box)
        for answer in sorted(self._answers, key=lambda a: a.score):
            chosen = answer is self._chosen
            for box in boxes(answer.start, answer.end):
                if self._guesses:
                    painter.setPen(QPen(muted(palette), 1, Qt.PenStyle.DotLine))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawLine(box.bottomLeft(), box.bottomRight())
                else:
                    painter.setPen(QPen(QColor(200, 90, 0), 2) if chosen else Qt.PenStyle.NoPen)
                    painter.setBrush(highlight_color(palette, answer.score))
                    painter.drawRect(box)
        if self._selection is not None and self._selection[0] == page:
            _, first, last = self._selection
            selected = QColor(palette.color(QPalette.ColorRole.Highlight))
            selected.setAlphaF(0.35)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(selected)
            for box in chars.span_rects(first, last - first + 1):
                painter.drawRect(on_page(rect, box))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._keep_place(self._layout)

    def _keep_place(self, change: Callable[[], None]) -> None:
        """Make ``change`` to the layout with the same point of the same page at the top."""
        if not self.laid_out:
            return
        top = self.verticalScrollBar().value()
        page = max(0, min(self.page_count - 1, int(np.searchsorted(self._tops, top, side="right")) - 1))
        height = max(1.0, self._tops[page + 1] - self._tops[page])
        share = (top - self._tops[page]) / height
        change()
        new_height = self._tops[page + 1] - self._tops[page]
        self.verticalScrollBar().setValue(int(self._tops[page] + share * new_height))
        self._want_timer.start()
        self.viewport().update()
        self.view_changed.emit()

    # -- answers, selection, zoom -------------------------------------------------------------

    def highlight(self, answers: list[Answer], guesses: bool = False) -> None:
        self._answers, self._guesses = list(answers), guesses
        if self._chosen is not None and all(answer is not self._chosen for answer in answers):
            self._chosen = None
        self.viewport().update()

    def select_answer(self, answer: Answer | None, reveal: bool) -> None:
        self._chosen = answer
        self.viewport().update()
        if answer is not None and reveal:
            self._reveal(answer.start, answer.end)

    def _reveal(self, start: int, end: int) -> None:
        """Scroll the span's first box into view; until its page is known, its page's place."""
        if not self.laid_out:
            self._pending_reveal = (start, end)
            return
        source = self.document.source_map if self.document is not None else None
        spans = source.page_spans(start, end) if source is not None else []
        page = spans[0].page if spans else int(self.index.pages_of(np.array([start]))[0])
        page = max(0, min(self.page_count - 1, page))
        rect = self.page_rect(page)
        chars = self.page_chars(page)
        target_y = rect.y()
        if chars is not None and spans:
            rects = chars.span_rects(spans[0].first, spans[0].count)
            if rects:
                x0, y0, x1, _ = rects[0]
                target_y = rect.y() + y0 * rect.height()
                self._center_x(rect.x() + (x0 + x1) / 2 * rect.width())
            self._pending_reveal = None
        else:
            self._pending_reveal = (start, end)  # again when the page's characters arrive
            self._want_timer.start()
        bar = self.verticalScrollBar()
        bar.setValue(int(bar.value() + target_y - self.viewport().height() / 3))

    def _center_x(self, x: float) -> None:
        across = self.horizontalScrollBar()
        if x < 0 or x > self.viewport().width():
            across.setValue(int(across.value() + x - self.viewport().width() / 2))

    def top_offset(self) -> int:
        """The first character of the page in the middle of the view."""
        return int(self.index.first[self.middle_page()]) if self.ready and self.page_count else 0

    def show_at_top(self, offset: int) -> None:
        """Go to the page holding character ``offset``."""
        if self.ready:
            self.go_to_page(int(self.index.pages_of(np.array([offset]))[0]))

    def go_to_page(self, page: int) -> None:
        if self.laid_out:
            page = max(0, min(self.page_count - 1, page))
            self.verticalScrollBar().setValue(int(self._tops[page] - PAGE_GAP / 2))

    @property
    def zoom(self) -> int:
        return self._zoom

    def set_zoom(self, steps: int) -> int:
        steps = max(ZOOM_RANGE[0], min(ZOOM_RANGE[1], steps))
        if steps != self._zoom:

            def change() -> None:
                self._zoom = steps
                self._layout()

            self._keep_place(change) if self.laid_out else setattr(self, "_zoom", steps)
        return self._zoom

    # -- the reader's hand: select, copy, scroll ----------------------------------------------

    def _char_under(self, point: QPointF) -> tuple[int, int] | None:
        for page in self.visible_pages():
            rect = self.page_rect(page)
            if rect.contains(point):
                chars = self.page_chars(page)
                if chars is None:
                    return None
                index = chars.char_at((point.x() - rect.x()) / rect.width(), (point.y() - rect.y()) / rect.height())
                return None if index is None else (page, index)
        return None

    def _reader_moved(self) -> None:
        """The reader scrolled or clicked: a reveal still waiting for its page is dropped."""
        self._pending_reveal = None
        self.reader_moved.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._reader_moved()
        self.setFocus()
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = self._char_under(event.position())
            self._selection = None
            self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        here = self._char_under(event.position())
        if here is not None and here[0] == self._press[0]:
            first, last = sorted((self._press[1], here[1]))
            self._selection = (here[0], first, last)
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None

    def copy(self) -> None:
        text = self.selected_page_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def selected_page_text(self) -> str:
        """The selected characters as the page has them (its line breaks kept)."""
        if self._selection is None:
            return ""
        page, first, last = self._selection
        chars = self.page_chars(page)
        return "" if chars is None else chars.text[first : last + 1].replace("\r\n", "\n").replace("\r", "\n")

    def selected_text(self) -> str:
        return " ".join(self.selected_page_text().split())

    def event(self, event: QEvent) -> bool:
        # Copy and Select All are the view's own while it has focus, before any window shortcut.
        own = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.SelectAll)
        overriding = event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
        if overriding and any(map(event.matches, own)):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        if event.matches(QKeySequence.StandardKey.SelectAll) and self.laid_out:
            page = self.middle_page()
            chars = self.page_chars(page)
            if chars is not None and chars.text:
                self._selection = (page, 0, len(chars.text) - 1)
                self.viewport().update()
            return
        self._reader_moved()
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._reader_moved()
        super().wheelEvent(event)

    # -- find (Searchable) --------------------------------------------------------------------

    @property
    def find_count(self) -> int:
        return self.finder.count

    @property
    def find_pending(self) -> bool:
        return self.finder.pending

    @property
    def find_error(self) -> str:
        return self.finder.error

    def set_find(self, query: str) -> int:
        count = self.finder.search(query)
        self.viewport().update()
        return count

    def find_step(self, delta: int) -> int:
        index = self.finder.step(delta)
        if index >= 0:
            self._reveal(*self.finder.match(index))
            self.viewport().update()
        return index

    def clear_find(self) -> None:
        self.finder.search("")
        self.viewport().update()

    def start_task(self, task) -> None:
        self.finder.tasks.add(task)
        self.pool.start(task)

    # -- the read map (Mappable) --------------------------------------------------------------

    def _content_height(self) -> float:
        return max(1.0, float(self._tops[-1]))

    def fraction_of(self, offset: int) -> float:
        return float(self.rows_of(np.array([offset]), 1_000_000)[0]) / 1_000_000 if self.laid_out else 0.0

    def rows_of(self, offsets: np.ndarray, rows: int) -> np.ndarray:
        if not self.laid_out or not len(offsets):
            return np.zeros(len(offsets), dtype=np.int64)
        pages, down = self.index.positions_of(offsets)
        heights = self._tops[pages + 1] - self._tops[pages] - PAGE_GAP
        y = self._tops[pages] + down * heights
        return np.clip((y / self._content_height() * rows).astype(np.int64), 0, rows)

    def visible_fraction(self) -> tuple[float, float]:
        if not self.laid_out:
            return (0.0, 1.0)
        top = self.verticalScrollBar().value()
        total = self._content_height()
        return (top / total, min(1.0, (top + self.viewport().height()) / total))

    def scroll_to_fraction(self, fraction: float) -> None:
        if self.laid_out:
            bar = self.verticalScrollBar()
            bar.setValue(int(fraction * self._content_height() - self.viewport().height() / 2))

    def shutdown(self) -> None:
        self._generation += 1
        self.finder.stop()
        self.worker.stop()
