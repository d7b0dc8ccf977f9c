"""A PDF's pages for a view: their sizes and labels, pictures of them, where their characters are,
and the outline. Every pdfium call holds the process-wide ``PDFIUM`` lock, one page at a time.

Coordinates: pdfium gives a character's box in page space (points, y up, before the page's
rotation); ``PageInfo.to_view`` maps page space onto the page as shown, 0 to 1 across and down,
so a view scales boxes by the size it draws the page at, whatever the rotation or crop box.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import InputError, PasswordNeeded
from .pdfium_lock import PDFIUM

# A page is drawn no larger than this many pixels (a 20,000-point page at screen zoom would be
# gigabytes); a view asking for more gets the page at the largest scale that fits.
MAX_RENDER_PIXELS = 16_000_000
# FPDF_PageToDevice rounds to whole device pixels: a large device keeps the affine map exact.
_DEVICE = 1_000_000


@dataclass(frozen=True)
class PageInfo:
    width: float  # points, as shown (rotation applied)
    height: float
    label: str  # as printed ("vi"), else the physical number
    # (a, b, c, d, e, f): page-space (x, y) is shown at (a*x + c*y + e, b*x + d*y + f), in 0..1.
    to_view: tuple[float, float, float, float, float, float]

    def view_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Page-space boxes (left, bottom, right, top) as shown: (x0, y0, x1, y1), 0..1, y down."""
        a, b, c, d, e, f = self.to_view
        xs = np.stack([a * boxes[:, 0] + c * boxes[:, 1], a * boxes[:, 2] + c * boxes[:, 3]], 1) + e
        ys = np.stack([b * boxes[:, 0] + d * boxes[:, 1], b * boxes[:, 2] + d * boxes[:, 3]], 1) + f
        return np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1)


@dataclass(frozen=True)
class PageText:
    """A page's characters: ``text[i]`` is pdfium's character ``i`` and ``boxes[i]`` its box in page
    space (NaN for characters pdfium made up, such as the line breaks between lines)."""

    text: str
    boxes: np.ndarray


@dataclass(frozen=True)
class OutlineEntry:
    level: int  # 0 for a top-level bookmark
    title: str
    page: int | None  # 0 is the first; None when the bookmark points nowhere in the file


class PdfPages:
    """An open PDF, for showing; ``close`` it (a view does when it shows something else). Image
    files have the same face (``image_pages.ImagePages``); ``page_files.open_pages`` picks by the file."""

    def __init__(self, path: str | Path, password: str | None = None) -> None:
        name = Path(path).name
        with PDFIUM:
            try:
                self._pdf = pdfium.PdfDocument(str(path), password=password)
            except pdfium.PdfiumError as error:
                if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
                    wrong = password is not None
                    message = f"the password for {name} is not right" if wrong else f"{name} needs a password"
                    raise PasswordNeeded(message, wrong=wrong) from error
                raise InputError(f"{name} cannot be shown as pages: it may be damaged") from error
            except OSError as error:
                raise InputError(f"cannot read {name}: {error.strerror or error}") from error
            self.count = len(self._pdf)

    def sizes(self) -> np.ndarray:
        """Every page's (width, height) in points, as shown, without loading the pages."""
        sizes = np.zeros((self.count, 2), dtype=np.float64)
        for index in range(self.count):
            with PDFIUM:
                sizes[index] = self._pdf.get_page_size(index)
        return sizes

    def labels(self) -> list[str]:
        """Every page's label as printed, else its physical number."""
        labels = []
        for index in range(self.count):
            with PDFIUM:
                labels.append(self._pdf.get_page_label(index) or str(index + 1))
        return labels

    def info(self, index: int) -> PageInfo:
        with PDFIUM:
            page = self._pdf[index]
            try:
                width, height = page.get_size()
                label = self._pdf.get_page_label(index) or str(index + 1)
                to_view = _affine(page)
            finally:
                page.close()
        return PageInfo(float(width), float(height), label, to_view)

    def render(self, index: int, scale: float) -> np.ndarray:
        """The page drawn at ``scale`` pixels a point (less for a huge page), as RGB rows."""
        with PDFIUM:
            page = self._pdf[index]
            try:
                width, height = page.get_size()
                scale = min(scale, (MAX_RENDER_PIXELS / max(1.0, width * height)) ** 0.5)
                bitmap = page.render(scale=scale, rev_byteorder=True, may_draw_forms=False)
                try:
                    return bitmap.to_numpy().copy()
                finally:
                    bitmap.close()
            finally:
                page.close()

    def text(self, index: int) -> PageText:
        with PDFIUM:
            page = self._pdf[index]
            text_page = page.get_textpage()
            try:
                text = text_page.get_text_range()
                boxes = _char_boxes(text_page, len(text))
            finally:
                text_page.close()
                page.close()
        return PageText(text, boxes)

    def outline(self, max_entries: int = 5000) -> list[OutlineEntry]:
        """The PDF's bookmarks in order (at most ``max_entries``: a hostile file can hold millions)."""
        entries = []
        with PDFIUM:
            for bookmark in self._pdf.get_toc(max_depth=8):
                if len(entries) >= max_entries:
                    break
                dest = bookmark.get_dest()
                page = dest.get_index() if dest is not None else None
                valid = page is not None and 0 <= page < self.count
                title = " ".join(bookmark.get_title().split()) or "(untitled)"
                entries.append(OutlineEntry(bookmark.level, title, page if valid else None))
        return entries

    def close(self) -> None:
        with PDFIUM:
            self._pdf.close()


def _affine(page: pdfium.PdfPage) -> tuple[float, float, float, float, float, float]:
    """Page space onto the shown page, from where pdfium puts three points on a large device."""

    def device(x: float, y: float) -> tuple[float, float]:
        dx, dy = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, _DEVICE, _DEVICE, 0, x, y, dx, dy)
        return dx.value / _DEVICE, dy.value / _DEVICE

    # A unit in page space is 1/width of the device: measure over 100 points for precision.
    (e, f), (x1, y1), (x2, y2) = device(0, 0), device(100, 0), device(0, 100)
    return ((x1 - e) / 100, (y1 - f) / 100, (x2 - e) / 100, (y2 - f) / 100, e, f)


def _char_boxes(text_page: pdfium.PdfTextPage, count: int) -> np.ndarray:
    boxes = np.full((count, 4), np.nan, dtype=np.float32)
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    for index in range(count):
        if pdfium_c.FPDFText_IsGenerated(text_page.raw, index) == 1:
            continue
        if pdfium_c.FPDFText_GetCharBox(text_page.raw, index, left, right, bottom, top):
            boxes[index] = (left.value, bottom.value, right.value, top.value)
    return boxes
