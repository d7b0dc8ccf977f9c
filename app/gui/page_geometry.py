"""Where a document's text is on its pages, for the page view: plain numpy over the source map and
the characters' boxes (in units of the shown page, 0 to 1 across and down), so it is tested
without Qt drawing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.documents import Document
from ..core.documents.source_map import PageSpan, SourceMap

# A rectangle of one line is at most this many times its tallest character: letters that rise and fall
# (l, y) fit, and a leaning line steps down instead.
LEANING_LINE = 1.5


@dataclass(frozen=True)
class PageChars:
    """A page's characters as the view uses them: ``text[i]`` is drawn in ``boxes[i]`` (x0, y0, x1,
    y1 in units of the shown page; NaN where a character has no box)."""

    text: str
    boxes: np.ndarray

    def span_rects(self, first: int, count: int) -> list[tuple[float, float, float, float]]:
        return line_rects(self.boxes[max(0, first) : max(0, first + count)])

    def char_at(self, x: float, y: float) -> int | None:
        """The character under (x, y), else the nearest one on that line; None on an empty page."""
        boxes = self.boxes
        known = ~np.isnan(boxes[:, 0])
        if not known.any():
            return None
        inside = known & (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
        if inside.any():
            return int(np.flatnonzero(inside)[0])
        # Nearest by vertical distance first (the line), then horizontal (the place on it).
        dy = np.where(known, np.maximum(0, np.maximum(boxes[:, 1] - y, y - boxes[:, 3])), np.inf)
        dx = np.where(known, np.maximum(0, np.maximum(boxes[:, 0] - x, x - boxes[:, 2])), np.inf)
        return int(np.lexsort((dx, np.round(dy, 4)))[0])


def ocr_page_chars(document: Document, page: int, size: tuple[float, float]) -> PageChars | None:
    """A page read by OCR: its characters come from the document's text, their boxes from the source
    map (points on the shown page, y up); None when the page was not read by OCR."""
    source = document.source_map
    if source is None or page not in source.boxes:
        return None
    boxes = source.boxes[page].astype(np.float64)
    width, height = max(size[0], 1e-6), max(size[1], 1e-6)
    shown = np.stack([boxes[:, 0] / width, 1 - boxes[:, 3] / height, boxes[:, 2] / width, 1 - boxes[:, 1] / height], 1)
    chars = [" "] * len(boxes)
    for run in np.flatnonzero(source.pages == page):
        start, length, first = int(source.starts[run]), int(source.lengths[run]), int(source.chars[run])
        chars[first : first + length] = document.text[start : start + length]
    return PageChars("".join(chars[: len(boxes)]), shown)


def line_rects(boxes: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Boxes of consecutive characters merged into one rectangle per line. A line runs across the
    page, or down it on a page turned a quarter: a character continues it when it stands level
    with it (beside it, not back to its left) or, down a turned page, in its column next to it.
    A line that leans (a page scanned at a slant) steps in rectangles at most ``LEANING_LINE`` times as
    thick as its largest character, so they follow it instead of covering its neighbours."""
    rects: list[list[float]] = []
    directions: list[str] = []  # "" while a rectangle holds one character
    largest: list[tuple[float, float]] = []  # the widest and the tallest character of each rectangle
    for x0, y0, x1, y1 in boxes.tolist():
        if x0 != x0:  # NaN: a character without a box
            continue
        if rects:
            rect, direction = rects[-1], directions[-1]
            widest, tallest = max(largest[-1][0], x1 - x0), max(largest[-1][1], y1 - y0)
            across = min(rect[3], y1) - max(rect[1], y0) > 0.5 * min(rect[3] - rect[1], y1 - y0)
            across = across and x0 >= rect[0] - (y1 - y0)
            across = across and max(rect[3], y1) - min(rect[1], y0) <= LEANING_LINE * tallest
            down = min(rect[2], x1) - max(rect[0], x0) > 0.5 * min(rect[2] - rect[0], x1 - x0)
            # Of a line running down, the characters' size across it is its thickness.
            down = down and rect[1] - widest <= y0 <= rect[3] + widest and not across
            down = down and max(rect[2], x1) - min(rect[0], x0) <= LEANING_LINE * widest
            if (across and direction != "down") or (down and direction != "across"):
                rect[:] = [min(rect[0], x0), min(rect[1], y0), max(rect[2], x1), max(rect[3], y1)]
                directions[-1] = "across" if across else "down"
                largest[-1] = (widest, tallest)
                continue
        rects.append([x0, y0, x1, y1])
        directions.append("")
        largest.append((x1 - x0, y1 - y0))
    return [tuple(rect) for rect in rects]


class PageIndex:
    """Which page each offset of the text is on, and where it lies down its page (by the share of the
    page's text before it): what the read map and find need for any number of offsets at once."""

    def __init__(self, source: SourceMap | None, page_count: int, text_length: int) -> None:
        self.page_count = page_count
        self._starts = np.zeros(0, dtype=np.int64)
        self._pages = np.zeros(0, dtype=np.int64)
        self.first = np.zeros(page_count, dtype=np.int64)
        self.last = np.ones(page_count, dtype=np.int64)
        if source is None or not len(source.starts) or not page_count:
            return
        keep = source.pages < page_count
        self._starts, self._pages = source.starts[keep], source.pages[keep]
        ends = self._starts + source.lengths[keep]
        first = np.full(page_count, text_length, dtype=np.int64)
        last = np.zeros(page_count, dtype=np.int64)
        np.minimum.at(first, self._pages, self._starts)
        np.maximum.at(last, self._pages, ends)
        # A page without text sits where the text after it begins.
        empty = last == 0
        following = np.minimum.accumulate(np.where(empty, text_length, first)[::-1])[::-1]
        first = np.where(empty, following, first)
        self.first, self.last = first, np.where(empty, following + 1, last)

    def pages_of(self, offsets: np.ndarray) -> np.ndarray:
        if not len(self._starts):
            return np.zeros(len(offsets), dtype=np.int64)
        runs = np.clip(np.searchsorted(self._starts, offsets, side="right") - 1, 0, len(self._starts) - 1)
        return self._pages[runs]

    def positions_of(self, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each offset's page and how far down it is (0 to 1), approximately."""
        offsets = np.asarray(offsets, dtype=np.int64)
        pages = self.pages_of(offsets)
        if not self.page_count:
            return pages, np.zeros(len(offsets))
        first, last = self.first[pages], self.last[pages]
        return pages, np.clip((offsets - first) / np.maximum(1, last - first), 0.0, 1.0)

    def spans_on(self, page: int, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The spans (sorted by start) that begin on ``page`` or before it and end after it begins."""
        if not self.page_count:
            return starts[:0], ends[:0]
        low = int(np.searchsorted(starts, self.first[page], side="left"))
        high = int(np.searchsorted(starts, self.last[page], side="left"))
        # A span starting on an earlier page may run onto this one.
        low_back = low
        while low_back > 0 and ends[low_back - 1] > self.first[page]:
            low_back -= 1
            if low - low_back > 8:
                break
        return starts[low_back:high], ends[low_back:high]


def spans_on_page(source: SourceMap, page: int, start: int, end: int) -> list[PageSpan]:
    return [span for span in source.page_spans(start, end) if span.page == page]
