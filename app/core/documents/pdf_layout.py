"""Undoing PDF page layout: running headers and footers, lines broken inside paragraphs, hyphenation,
headings, and the blocks (paragraphs, tables, contents) a page's lines make.

Plain functions over lines of text with their boxes on the page, so they are tested without PDFs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from statistics import median

import numpy as np

EDGE_LINES = 2  # how many rows at the top and at the bottom of a page may be a running header or footer
MIN_PAGES_FOR_RUNNING_LINES = 3  # with fewer pages, a line on "most pages" is no evidence of a header
PARAGRAPH_GAP = 0.4  # extra space between lines, in line heights, that starts a new paragraph
HYPHENATED = re.compile(r"[^\W\d_]-$")  # a letter, then a hyphen at the very end of a line
SENTENCE_ENDS = tuple(".!?:;)]\"'\u201d\u2019")  # the last two are the closing curly quotes
# A page number alone: "7", "- 7 -", "Page 7 of 9", "[vii]".
PAGE_NUMBER = re.compile(r"(?i)(?:page\s+)?(\d{1,4}|[ivxlcdm]{1,8})(?:\s*(?:of|/)\s*\d{1,4})?")
ROMAN = re.compile(r"(?i)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
NUMBERED_HEADING = re.compile(r"(?:\d{1,2}\.)*\d{1,2}\.?\s+(?=[A-Z])")  # "2.3 Title", "1. Introduction"
HEADING_SIZE = 1.15  # a heading's font is at least this much larger than the body's
MAX_RUNNING_WORDS = 12  # a header or footer with the page's number is short
SAME_SIZE = 1.05  # a font at most this much larger than the body's is the body's size
MAX_HEADING_CHARS = 80
MAX_HEADING_WORDS = 12
MAX_NUMBERED_HEADING_WORDS = 8
HEADING_ENDS = tuple(".,;:-")
BODY_LINE_CHARS = 40  # lines at least this long tell the body's font size
BLOCK_OF_LINES = ("table", "contents")  # kinds whose lines stay lines, joined by line breaks


@dataclass(frozen=True)
class Line:
    """One line of a page (or one run of it cut at a wide gap). ``top`` is where its first
    character's box begins, ``bottom`` where its last character's ends and ``height`` that
    character's height, ``left`` and ``right`` where it begins and ends across, in PDF units (y
    grows up the page); ``size`` is its first character's font size (0 when unknown)."""

    text: str
    top: float
    bottom: float
    height: float
    # Where each character of ``text`` is on its page (pdfium's character index, -1 for one the
    # loader added); None for a line that comes from nowhere (as in tests).
    chars: np.ndarray | None = field(default=None, compare=False)
    left: float = 0.0
    right: float = 0.0
    size: float = 0.0
    bold: bool = False
    row: int = -1  # which line of pdfium's text it was cut from (-1: unknown)
    kind: str = "text"  # "text", "heading", "table" (a row of cells) or "contents" (never an answer)

    def chars_or_nowhere(self) -> np.ndarray:
        return self.chars if self.chars is not None else np.full(len(self.text), -1, dtype=np.int64)


@dataclass(frozen=True)
class Block:
    """A paragraph, heading, table or run of contents entries, ready for the text."""

    text: str
    chars: np.ndarray
    kind: str


def drop_running_lines(pages: list[list[Line]], labels: list[str] | None = None) -> list[list[Line]]:
    """Remove headers and footers from the top and bottom rows of each page: lines that repeat on
    most pages, or on most pages of one side (a book's even and odd pages have different headers);
    page numbers standing alone; lines in small print that repeat in the outermost row of several
    pages ("Chapter 4: Function reference" over each page of a chapter); and a row in small print
    that begins or ends with the page's own number or label ("Chapter 2: ASN.1 structure handling   3").

    Digits are ignored when comparing, so "Page 3 of 10" and "Page 4 of 10" are the same line.
    """
    labels = labels or [str(number) for number in range(1, len(pages) + 1)]
    edges = [edge_indexes(page, EDGE_LINES) for page in pages]
    outer = [edge_indexes(page, 1) for page in pages]
    small = small_print(pages)
    running: tuple[set[str], set[str]] = (set(), set())
    repeated: set[str] = set()
    if len(pages) >= MIN_PAGES_FOR_RUNNING_LINES:
        edge_keys = [{running_key(page[i]) for i in indexes} for page, indexes in zip(pages, edges, strict=True)]
        everywhere = Counter(key for keys in edge_keys for key in keys)
        for side in (0, 1):
            sides = edge_keys[side::2]
            on_side = Counter(key for keys in sides for key in keys)
            running[side].update(key for key, count in everywhere.items() if 2 * count > len(pages))
            running[side].update(key for key, count in on_side.items() if count >= 2 and 2 * count > len(sides))
        outer_keys = Counter(
            key
            for page, outermost in zip(pages, outer, strict=True)
            for key in {running_key(page[i]) for i in outermost if small(page[i])}
        )
        repeated = {key for key, count in outer_keys.items() if count >= MIN_PAGES_FOR_RUNNING_LINES}
    return [
        [
            line
            for i, line in enumerate(page)
            if i not in edges[number]
            or not is_running(
                line, i in outer[number], own_numbers(number, label), running[number % 2], repeated, small
            )
        ]
        for number, (page, label) in enumerate(zip(pages, labels, strict=True))
    ]


def own_numbers(number: int, label: str) -> set[str]:
    """How page ``number`` (0 is the first) may print its own number: its label, or its place."""
    return {str(number + 1), label.casefold()}


def is_running(
    line: Line, outermost: bool, own: set[str], running: set[str], repeated: set[str], small: Callable[[Line], bool]
) -> bool:
    """Whether a line in a page's top or bottom rows is a header or footer (see ``drop_running_lines``)."""
    key, words = running_key(line), line.text.casefold().split()
    if key in running or is_page_number(line.text):
        return True
    numbered = len(words) <= MAX_RUNNING_WORDS and (words[0] in own or words[-1] in own)
    return small(line) and ((key in repeated and outermost) or numbered)


def edge_indexes(page: list[Line], rows: int) -> set[int]:
    """The lines in the page's top and bottom ``rows`` rows (lines level with each other)."""
    levels = sorted({round(line.top) for line in page}, reverse=True)
    edge = set(levels[:rows]) | set(levels[-rows:])
    return {i for i, line in enumerate(page) if round(line.top) in edge}


def small_print(pages: list[list[Line]]) -> Callable[[Line], bool]:
    """Whether a line is in the body's font size or smaller, as headers and footers are (a line of
    unknown size, as OCR reads them, may be)."""
    body = body_size(pages)
    return lambda line: not (body and line.size > SAME_SIZE * body)


def body_size(pages: list[list[Line]]) -> float:
    """The font size of most long lines: the body's; 0 when no line's size is known."""
    sizes = [line.size for page in pages for line in page if line.size > 0 and len(line.text) >= BODY_LINE_CHARS]
    return median(sizes) if sizes else 0.0


def running_key(line: Line) -> str:
    """The line's words without their digits, and its font size: a title page's title in a large
    font is not the running header that repeats it in a small one."""
    words = " ".join(re.sub(r"\d+", "#", line.text).split()).casefold()
    return f"{words}|{round(line.size)}" if line.size > 0 else words


def is_page_number(text: str) -> bool:
    bare = text.strip(" -\u2013\u2014[]()")
    match = PAGE_NUMBER.fullmatch(bare)
    if match is None:
        return False
    number = match.group(1)
    return number.isdigit() or (ROMAN.fullmatch(number) is not None and (number.islower() or number.isupper()))


def mark_headings(pages: list[list[Line]]) -> list[list[Line]]:
    """Lines that are headings (see ``is_heading``), against the font size of the body's lines."""
    body = body_size(pages)
    return [
        [
            replace(line, kind="heading") if is_heading(line, previous, following, body) else line
            for previous, line, following in zip([None, *page[:-1]], page, [*page[1:], None], strict=True)
        ]
        for page in pages
    ]


def is_heading(line: Line, previous: Line | None, following: Line | None, body: float) -> bool:
    """A short line without end punctuation, in a larger or bold font, or numbered like "2.3 Title"
    (but not an item of a numbered list or listing: a line beside it numbered to the same depth, or
    words without a small letter, such as "4 CARD32 N_ALIASES" in a listing of a file format)."""
    text, words = line.text, len(line.text.split())
    if line.kind != "text" or len(text) > MAX_HEADING_CHARS or words > MAX_HEADING_WORDS:
        return False
    if text.endswith(HEADING_ENDS) or not any(c.isalpha() for c in text):
        return False
    if (body and line.size >= HEADING_SIZE * body) or line.bold:
        return True
    depth = numbering_depth(text)
    if not depth or words > MAX_NUMBERED_HEADING_WORDS or not any(c.islower() for c in text):
        return False
    carries_on = following is not None and following.text[:1].islower()
    in_a_list = any(other is not None and numbering_depth(other.text) == depth for other in (previous, following))
    return not carries_on and not in_a_list


def numbering_depth(text: str) -> int:
    """How many numbers a heading's numbering has ("2.3 Title": 2); 0 for a line not numbered so."""
    match = NUMBERED_HEADING.match(text)
    return match.group(0).rstrip(". \t").count(".") + 1 if match else 0


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
    next line is above the last one (the next column); a heading is a paragraph of its own, and a
    table's rows, or a run of contents entries, one block.
    """
    if not page:
        return []
    groups = [[page[0]]]
    for gap, (above, below) in zip(line_gaps(page), pairwise(page), strict=True):
        other_kind = below.kind != above.kind or "heading" in (above.kind, below.kind)
        spaced = gap > usual + PARAGRAPH_GAP * above.height or gap < usual - above.height
        if other_kind or (spaced and below.kind not in BLOCK_OF_LINES):
            groups.append([])
        groups[-1].append(below)
    return groups


def page_blocks(page: list[Line], usual: float) -> list[Block]:
    """The page's paragraphs, headings, tables and contents as text with its characters' sources."""
    blocks = []
    for group in paragraph_lines(page, usual):
        kind = group[0].kind
        if kind in BLOCK_OF_LINES:
            text = "\n".join(line.text for line in group)
            chars = np.concatenate([part for line in group for part in (np.array([-1]), line.chars_or_nowhere())][1:])
        else:
            text, chars = join_lines([line.text for line in group]), joined_chars(group)
        blocks.append(Block(text, chars, kind))
    return blocks


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
    parts = [group[0].chars_or_nowhere()]
    for line, undo_hyphen in zip(group[1:], dehyphenated([line.text for line in group]), strict=True):
        if undo_hyphen:
            parts[-1] = parts[-1][:-1]
        else:
            parts.append(np.array([-1]))
        parts.append(line.chars_or_nowhere())
    return np.concatenate(parts)


def continues_paragraph(previous: str, following: str) -> bool:
    """Whether a page that begins with ``following`` carries on the paragraph the page before ended with:
    that one stops mid-sentence and this one starts with a small letter."""
    return not previous.endswith(SENTENCE_ENDS) and following[:1].islower()
