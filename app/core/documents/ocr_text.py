"""OCR lines to a page's lines, as a PDF's text layer gives them (so the same layout is undone, see
``page_document``), and a box for every character in page points (left, bottom, right, top; y grows up
the page, as in PDF), so answers are drawn on the scan.

A page's characters are numbered in reading order; the source map's runs index that page's box array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium

from . import ocr, ocr_cache
from .load_options import NO_OPTIONS, LoadOptions
from .pdf_layout import Line
from .pdfium_lock import PDFIUM

PDF_DPI = 200  # rapidocr shrinks a page to 2000 pixels at most, so a letter page gains nothing above ~180
MAX_RENDER_PIXELS = 40_000_000  # a huge page (a poster, a map) is rendered at a lower resolution
SAME_LINE = 0.5  # two boxes overlapping by this much of the lower one's height are one line of text


@dataclass(frozen=True)
class PageText:
    lines: list[Line]  # pdf_layout's lines, whose ``chars`` index ``boxes``
    boxes: np.ndarray  # (characters, 4) in page points


def page_text(page: ocr.OcrPage) -> PageText:
    """The page's lines of text and every character's box, as a PDF's text layer gives them: each
    detected box a ``Line`` (with its place across the page, so columns and tables are found as in a
    text layer), the boxes of one printed row sharing its ``row`` and its height."""
    scale = page.points_per_pixel
    page_height = page.upright_height * scale  # the lines' layout is the upright page's
    boxes: list[np.ndarray] = []
    lines = []
    first = 0
    for row_number, row in enumerate(_rows(page.lines)):
        row_top, row_bottom = min(line.box[1] for line in row), max(line.box[3] for line in row)
        top, bottom = page_height - row_top * scale, page_height - row_bottom * scale
        for line in row:
            kept = _kept_characters(line.text)
            if not kept:
                continue
            boxes.append(_character_boxes(page, line.lefts[kept], line.rights[kept], row_top, row_bottom))
            lines.append(
                Line(
                    "".join(" " if line.text[i].isspace() else line.text[i] for i in kept),
                    top,
                    bottom,
                    top - bottom,
                    np.arange(first, first + len(kept), dtype=np.int64),
                    left=line.box[0] * scale,
                    right=line.box[2] * scale,
                    row=row_number,
                )
            )
            first += len(kept)
    return PageText(lines, np.concatenate(boxes or [np.zeros((0, 4))]).astype(np.float32))


def _character_boxes(page: ocr.OcrPage, lefts: np.ndarray, rights: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """Boxes (left, bottom, right, top) in page points of characters spanning ``lefts`` to ``rights`` of a
    row from ``top`` to ``bottom`` in the page's upright frame (pixels): on a page scanned sideways or at a
    slant, each box holds its character's corners where the image shows them."""
    corners_x = np.stack([lefts, rights, rights, lefts])
    corners_y = np.stack([np.full_like(lefts, top)] * 2 + [np.full_like(lefts, bottom)] * 2)
    x, y = page.on_image(corners_x, corners_y)
    scale, page_height = page.points_per_pixel, page.height * page.points_per_pixel
    return np.stack(
        [
            x.min(axis=0) * scale,
            page_height - y.max(axis=0) * scale,
            x.max(axis=0) * scale,
            page_height - y.min(axis=0) * scale,
        ],
        axis=1,
    )


def _kept_characters(text: str) -> list[int]:
    """The characters of a read line that stay: runs of spaces read between words become one, and
    spaces at the ends go."""
    kept: list[int] = []
    for i, char in enumerate(text):
        if char.isspace() and (not kept or text[kept[-1]].isspace()):
            continue
        kept.append(i)
    while kept and text[kept[-1]].isspace():
        kept.pop()
    return kept


def _rows(lines: tuple[ocr.OcrLine, ...]) -> list[list[ocr.OcrLine]]:
    """Detected boxes that stand on one line of text (a wide gap splits a line), left to right."""
    rows: list[list[ocr.OcrLine]] = []
    for line in lines:
        if rows:
            last = rows[-1][-1]
            overlap = min(last.box[3], line.box[3]) - max(last.box[1], line.box[1])
            if overlap >= SAME_LINE * min(last.box[3] - last.box[1], line.box[3] - line.box[1]):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda line: line.box[0]) for row in rows]


def ocr_pdf_page(
    pdf: pdfium.PdfDocument, index: int, file_digest: str, options: LoadOptions = NO_OPTIONS
) -> ocr.OcrPage:
    """Read page ``index`` of ``pdf`` by OCR (a page without a text layer), cached by ``file_digest``
    (``ocr_cache.file_digest`` of the file's bytes). Raises Cancelled when asked to stop."""
    options.check_stop()
    with PDFIUM:
        count = len(pdf)
    options.report(index, count, f"reading page {index + 1} of {count} by OCR")
    key = ocr_cache.entry_key(file_digest, f"pdf page {index} at {PDF_DPI} dpi")
    return ocr_cache.read_through(key, lambda: _read_pdf_page(pdf, index, options))


def _read_pdf_page(pdf: pdfium.PdfDocument, index: int, options: LoadOptions) -> ocr.OcrPage:
    with PDFIUM:
        page = pdf[index]
        try:
            width, height = page.get_size()  # points, before /Rotate, which rendering applies
            scale = PDF_DPI / 72
            if width * height * scale * scale > MAX_RENDER_PIXELS:
                scale = (MAX_RENDER_PIXELS / (width * height)) ** 0.5
            bitmap = page.render(scale=scale)
            try:
                image = np.array(bitmap.to_numpy()[..., :3][..., ::-1])  # pdfium draws BGR(A)
            finally:
                bitmap.close()
        finally:
            page.close()
    return ocr.engine().read(image, 1 / scale, options=options)
