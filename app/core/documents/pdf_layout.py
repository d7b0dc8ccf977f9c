"""Undoing PDF page layout: running headers and footers, lines broken inside paragraphs, hyphenation.

Plain functions over lines of text with their heights on the page, so they are tested without PDFs.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

import numpy as np

EDGE_LINES = 2  # how many lines at the top and at the bottom of a page may be a running header or footer
MIN_PAGES_FOR_RUNNING_LINES = 3  # with fewer pages, a line on "most pages" is no evidence of a header
PARAGRAPH_GAP = 0.4  # extra space between lines, in line heights, that starts a new paragraph
HYPHENATED = re.compile(r"[^\W\d_]-$")  # a letter, then a hyphen at the very end of a line
SENTENCE_ENDS = tuple(".!?:;)]\"'\u201d\u2019")  # the last two are the closing curly quotes


@dataclass(frozen=True)
class Line:
    """One line of a page. ``top`` is where its first character's box begins, ``bottom`` where its last
    character's ends and ``height`` that character's height, in PDF units (y grows up the page)."""

    text: str
    top: float
    bottom: float
    height: float
    # Where each character of ``text`` is on its page (pdfium's character index); None for a line
    # that comes from nowhere (as in tests).
    chars: np.ndarray | None = field(default=None, compare=False)


def drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove headers and footers: lines near the top or bottom that repeat on most pages.

    Digits are ignored when comparing, so "Page 3 of 10" and "Page 4 of 10" are the same line.
    """
    if len(pages) < MIN_PAGES_FOR_RUNNING_LINES:
        return pages
    edges = [edge_indexes(len(page)) for page in pages]
    edge_keys = [{running_key(page[i]) for i in indexes} for page, indexes in zip(pages, edges, strict=True)]
    counts = Counter(key for keys in edge_keys for key in keys)
    running = {key for key, count in counts.items() if 2 * count > len(pages)}
    return [
        [line for i, line in enumerate(page) if i not in indexes or running_key(line) not in running]
        for page, indexes in zip(pages, edges, strict=True)
    ]


def edge_indexes(line_count: int) -> set[int]:
    return set(range(min(EDGE_LINES, line_count))) | set(range(max(0, line_count - EDGE_LINES), line_count))


def running_key(line: Line) -> str:
    return " ".join(re.sub(r"\d+", "#", line.text).split()).casefold()


def usual_gap(pages: list[list[Line]]) -> float:
    """The space between two lines of one paragraph: most lines of a document are inside paragraphs."""
    gaps = [gap for page in pages for gap in line_gaps(page)]
    return median(gaps) if gaps else 0.0


def line_gaps(page: list[Line]) -> list[float]:
    return [above.bottom - below.top for above, below in pairwise(page)]


def paragraphs(page: list[Line], usual: float) -> list[str]:
    """The page's lines joined into paragraphs (see ``paragraph_lines``)."""
    return [join_lines([line.text for line in group]) for group in paragraph_lines(page, usual)]


def paragraph_lines(page: list[Line], usual: float) -> list[list[Line]]:
    """The page's lines grouped into paragraphs.

    A paragraph ends where the space between two lines is clearly larger than ``usual``, or where the
    next line is above the last one (the next column, in the order the PDF gives).
    """
    if not page:
        return []
    groups = [[page[0]]]
    for gap, (above, below) in zip(line_gaps(page), pairwise(page), strict=True):
        if gap > usual + PARAGRAPH_GAP * above.height or gap < usual - above.height:
            groups.append([])
        groups[-1].append(below)
    return groups


def dehyphenated(lines: list[str]) -> list[bool]:
    """For each line after the first, whether it joins the one before by undoing its hyphen
    ("infor-" then "mation") rather than with a space."""
    return [bool(HYPHENATED.search(above)) and below[:1].islower() for above, below in pairwise(lines)]


def join_lines(lines: list[str]) -> str:
    """Lines of one paragraph joined with spaces; "infor-" then "mation" becomes "information"."""
    parts = [lines[0]]
    for line, undo_hyphen in zip(lines[1:], dehyphenated(lines), strict=True):
        if undo_hyphen:
            parts[-1] = parts[-1][:-1]
        else:
            parts.append(" ")
        parts.append(line)
    return "".join(parts)


def joined_chars(group: list[Line]) -> np.ndarray:
    """Where each character of ``join_lines`` of these lines is on the page: -1 for a joining space."""
    parts = [_chars(group[0])]
    for line, undo_hyphen in zip(group[1:], dehyphenated([line.text for line in group]), strict=True):
        if undo_hyphen:
            parts[-1] = parts[-1][:-1]
        else:
            parts.append(np.array([-1]))
        parts.append(_chars(line))
    return np.concatenate(parts)


def _chars(line: Line) -> np.ndarray:
    return line.chars if line.chars is not None else np.full(len(line.text), -1)


def continues_paragraph(previous: str, following: str) -> bool:
    """Whether a page that begins with ``following`` carries on the paragraph the page before ended with:
    that one stops mid-sentence and this one starts with a small letter."""
    return not previous.endswith(SENTENCE_ENDS) and following[:1].islower()
