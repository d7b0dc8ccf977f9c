"""One PDF page's text from pdfium, as lines with where they stand on the page.

A line of pdfium's text is cut where a gap much wider than a space parts two runs of words (two
columns printed side by side, two cells of a table): each run is a ``Line`` of its own, and the
lines of one printed row share their ``row``. A footnote mark glued to a word (a smaller or raised
digit or symbol) gets a space before it that comes from nowhere.

Only a few characters are measured (the two either side of each space, the first of each line, a
possible footnote mark): pdfium answers one character a call, and a page has thousands.
"""

from __future__ import annotations

import ctypes
import re

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .pdf_columns import joined
from .pdf_layout import Line
from .pdfium_lock import PDFIUM

LINE = re.compile(r"[^\r\n]+")
# pdfium marks a hyphen it took for a line-end hyphenation with U+FFFE (older builds: U+0002) and has
# already joined the two lines; the mark, and any invisible soft hyphen, is not part of the text.
HYPHEN_MARK_CODES = np.array([0xFFFE, 0x02, 0xAD], dtype=np.uint32)
SPACE_CODES = np.array([ord(c) for c in map(chr, range(0x3001)) if c.isspace()], dtype=np.uint32)
NOWHERE = -1  # the source index of a character the loader adds
WIDE_GAP = 1.0  # a gap wider than this many line heights (about four spaces) parts two runs of words
BOLD_WEIGHT = 600
# A mark right after a letter (or the full stop or comma after it): digits or a footnote symbol.
GLUED_MARK = re.compile(r"[^\W\d_][.,;:)]?([\d*\u2020\u2021\u00a7\u00b6]+)")
SUPERSCRIPT_DIGITS = re.compile(r"(?<=\w)[\u00b9\u00b2\u00b3\u2070-\u2079]")
SMALLER_MARK = 0.85  # a mark's font size below this share of the word's is a superscript
RAISED_MARK = 0.2  # so is one whose baseline is this many font sizes above the word's


class PageReader:
    """pdfium's text of one page, measured on demand; the caller holds ``PDFIUM``."""

    def __init__(self, text_page: pdfium.PdfTextPage) -> None:
        self.raw = text_page.raw
        self.text = text_page.get_text_range()
        self.codes = np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self._rect = pdfium_c.FS_RECTF()
        self._x, self._y = ctypes.c_double(), ctypes.c_double()

    def box(self, index: int) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the character's loose box: its advance across, the font's
        height up and down, so boxes of one line meet and share their height."""
        rect = self._rect
        if not pdfium_c.FPDFText_GetLooseCharBox(self.raw, index, rect):
            return (0.0, 0.0, 0.0, 0.0)
        return (rect.left, rect.bottom, rect.right, rect.top)

    def size(self, index: int) -> float:
        return float(pdfium_c.FPDFText_GetFontSize(self.raw, index))

    def baseline(self, index: int) -> float:
        pdfium_c.FPDFText_GetCharOrigin(self.raw, index, self._x, self._y)
        return self._y.value

    def bold(self, index: int) -> bool:
        return pdfium_c.FPDFText_GetFontWeight(self.raw, index) >= BOLD_WEIGHT

    def lines(self) -> list[Line]:
        marks = self.footnote_marks()
        found: list[Line] = []
        for row, match in enumerate(LINE.finditer(self.text)):
            indexes = np.arange(match.start(), match.end())
            indexes = indexes[~np.isin(self.codes[indexes], HYPHEN_MARK_CODES)]
            spaces = np.isin(self.codes[indexes], SPACE_CODES)
            words = np.flatnonzero(~spaces)
            if not len(words):
                continue
            indexes, spaces = indexes[words[0] : words[-1] + 1], spaces[words[0] : words[-1] + 1]
            found.extend(self._runs(indexes, spaces, row, marks))
        return continued_rows(found)

    def footnote_marks(self) -> set[int]:
        """Indexes of the characters that begin a footnote mark glued to the word before them."""
        marks = {match.start() for match in SUPERSCRIPT_DIGITS.finditer(self.text)}
        for match in GLUED_MARK.finditer(self.text):
            word, mark = match.start(), match.start(1)
            size = self.size(word)
            if size <= 0:
                continue
            smaller = self.size(mark) < SMALLER_MARK * size
            if smaller or self.baseline(mark) > self.baseline(word) + RAISED_MARK * size:
                marks.add(mark)
        return marks

    def _runs(self, indexes: np.ndarray, spaces: np.ndarray, row: int, marks: set[int]) -> list[Line]:
        """The line's runs of words, cut at wide gaps; spaces around a cut are left out."""
        # Space runs inside the line: the character before each one and the one after it.
        edges = np.flatnonzero(np.diff(spaces.astype(np.int8)))
        befores, afters = edges[0::2], edges[1::2] + 1
        cuts = []
        for before, after in zip(befores.tolist(), afters.tolist(), strict=True):
            _, bottom, right, top = self.box(int(indexes[before]))
            if self.box(int(indexes[after]))[0] - right > WIDE_GAP * (top - bottom):
                cuts.append((before + 1, after))
        pieces, start = [], 0
        for end, following in cuts:
            pieces.append(indexes[start:end])
            start = following
        pieces.append(indexes[start:])
        return [self._line(piece, row, marks) for piece in pieces]

    def _line(self, indexes: np.ndarray, row: int, marks: set[int]) -> Line:
        first, last = int(indexes[0]), int(indexes[-1])
        left, _, _, top = self.box(first)
        _, bottom, right, last_top = self.box(last)
        chars = indexes.astype(np.int64)
        glued = [i for i, index in enumerate(chars.tolist()) if index in marks and i > 0]
        if glued:
            chars = np.insert(chars, glued, NOWHERE)
        return Line(
            text=self.text_of(chars),
            top=top,
            bottom=bottom,
            height=last_top - bottom,
            chars=chars,
            left=left,
            right=right,
            size=self.size(first),
            bold=self.bold(first),
            row=row,
        )

    def text_of(self, chars: np.ndarray) -> str:
        """The page's characters at ``chars``, a space where one is ``NOWHERE``."""
        codes = np.where(chars >= 0, self.codes[np.maximum(chars, 0)], ord(" ")).astype(np.uint32)
        return codes.tobytes().decode("utf-32-le", "surrogatepass")


def continued_rows(lines: list[Line]) -> list[Line]:
    """Lines that pdfium broke in the middle of a printed line (after a superscript, or a change of
    font) joined again with a space: the next one stands level with the last, just after it."""
    joined_lines: list[Line] = []
    for line in lines:
        last = joined_lines[-1] if joined_lines else None
        if last is not None and last.row != line.row and level_and_next(last, line):
            joined_lines[-1] = joined([last, line], " ", "text")
        else:
            joined_lines.append(line)
    return joined_lines


def level_and_next(last: Line, line: Line) -> bool:
    overlap = min(last.top, line.top) - max(last.bottom, line.bottom)
    height = min(last.top - last.bottom, line.top - line.bottom)
    gap = line.left - last.right
    return height > 0 and overlap >= 0.5 * height and -1 <= gap <= WIDE_GAP * height


def page_lines(pdf: pdfium.PdfDocument, index: int) -> list[Line]:
    """The page's lines in pdfium's order; no lines for a page without a text layer."""
    with PDFIUM:
        page = pdf[index]
        text_page = page.get_textpage()
        try:
            return PageReader(text_page).lines()
        finally:
            text_page.close()
            page.close()
