"""Where a document's text came from on its pages, for formats that have pages (PDF).

A loader that undoes page layout (joined lines, dropped headers, undone hyphenation) keeps, for
every run of the text it copied, the page and the index of the page's first character that run
came from (pdfium's character indexes); text it added itself (the space joining two lines) comes
from nowhere. The boxes of any span's characters are then the page's own (pdfium gives them for a
range of characters), so an answer can be drawn where it stands on its page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PageSpan:
    """``count`` characters of page ``page`` (0 is the first), from character ``first`` on."""

    page: int
    first: int
    count: int


@dataclass(frozen=True)
class SourceMap:
    """Run ``i`` is ``text[starts[i]:starts[i] + lengths[i]]``: page ``pages[i]``'s characters from
    ``chars[i]`` on. Runs are sorted by ``starts`` and never overlap."""

    starts: np.ndarray
    lengths: np.ndarray
    pages: np.ndarray
    chars: np.ndarray
    # Pages whose characters are not pdfium's (read by OCR, or an image file): character ``i`` of
    # such a page has the box ``boxes[page][i]`` = (left, bottom, right, top) in page points.
    boxes: dict[int, np.ndarray] = field(default_factory=dict)

    def page_spans(self, start: int, end: int) -> list[PageSpan]:
        """The page characters ``text[start:end]`` came from, in text order."""
        first = max(0, int(np.searchsorted(self.starts + self.lengths, start, side="right")))
        found = []
        for run in range(first, len(self.starts)):
            run_start, length = int(self.starts[run]), int(self.lengths[run])
            if run_start >= end:
                break
            low, high = max(start, run_start), min(end, run_start + length)
            if low < high:
                found.append(PageSpan(int(self.pages[run]), int(self.chars[run]) + low - run_start, high - low))
        return found

    def page_of(self, offset: int) -> int | None:
        """The page the character at ``offset`` came from; None for text the loader added."""
        run = int(np.searchsorted(self.starts, offset, side="right")) - 1
        if run >= 0 and offset < int(self.starts[run]) + int(self.lengths[run]):
            return int(self.pages[run])
        return None

    def page_at_or_before(self, offset: int) -> int | None:
        """The page of the character at ``offset``, or of the nearest copied one before it (for a
        space or break the loader added); the first page's for added text before any copied."""
        run = int(np.searchsorted(self.starts, offset, side="right")) - 1
        if len(self.starts) == 0:
            return None
        return int(self.pages[max(run, 0)])


class SourceMapBuilder:
    """Collects runs as a loader appends text: each block's per-character source indexes, -1 for
    characters the loader added."""

    def __init__(self) -> None:
        self._starts: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []
        self._pages: list[np.ndarray] = []
        self._chars: list[np.ndarray] = []
        self._boxes: dict[int, np.ndarray] = {}

    def add(self, offset: int, page: int, chars: np.ndarray) -> None:
        """The block at text ``offset`` whose character ``i`` is page ``page``'s character ``chars[i]``."""
        chars = np.asarray(chars, dtype=np.int64)
        if not len(chars):
            return
        # A run ends where a character came from nowhere or from somewhere not right after the last.
        known = chars >= 0
        begins = known & np.concatenate([[True], (chars[1:] != chars[:-1] + 1) | ~known[:-1]])
        last = known & np.concatenate([begins[1:] | ~known[1:], [True]])
        starts, ends = np.flatnonzero(begins), np.flatnonzero(last) + 1
        self._starts.append(starts + offset)
        self._lengths.append(ends - starts)
        self._pages.append(np.full(len(starts), page, dtype=np.int64))
        self._chars.append(chars[starts])

    def add_page_boxes(self, page: int, boxes: np.ndarray) -> None:
        """Page ``page``'s characters are its own (OCR): ``boxes[i]`` is character ``i``'s box."""
        self._boxes[page] = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)

    def build(self) -> SourceMap | None:
        if not self._starts:
            return None
        runs = (np.concatenate(parts) for parts in (self._starts, self._lengths, self._pages, self._chars))
        return SourceMap(*runs, boxes=dict(self._boxes))
