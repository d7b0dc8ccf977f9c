"""PDF: the text layer page by page through pdfium, with page layout undone, a section per page, and a
source map from the text back to each page's characters."""

from __future__ import annotations

import re

import numpy as np
import pypdfium2 as pdfium

from ..errors import InputError
from .document import PARAGRAPH_BREAK, Document, TextBuilder
from .load_options import NO_OPTIONS, LoadOptions
from .pdf_layout import (
    Line,
    continues_paragraph,
    drop_running_lines,
    join_lines,
    joined_chars,
    paragraph_lines,
    usual_gap,
)

LINE = re.compile(r"[^\r\n]+")
# pdfium marks a hyphen it took for a line-end hyphenation with U+FFFE (older builds: U+0002) and has
# already joined the two lines; the mark, and any invisible soft hyphen, is not part of the text.
HYPHEN_MARKS = str.maketrans("", "", "\ufffe\x02\xad")
HYPHEN_MARK_CODES = np.array([0xFFFE, 0x02, 0xAD], dtype=np.uint32)


def load_pdf(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    pages = drop_running_lines(read_pages(data, name))
    usual = usual_gap(pages)
    builder = TextBuilder()
    previous = ""
    for number, page in enumerate(pages, 1):
        for index, group in enumerate(paragraph_lines(page, usual)):
            paragraph = join_lines([line.text for line in group])
            # A sentence cut by a page break is one sentence again; the page's section still begins here.
            gap = " " if index == 0 and previous and continues_paragraph(previous, paragraph) else PARAGRAPH_BREAK
            section = f"page {number}" if index == 0 else None
            builder.add(paragraph, gap, section=section, source=(number - 1, joined_chars(group)))
            previous = paragraph
    return builder.document(name, "pdf")


def read_pages(data: bytes, name: str) -> list[list[Line]]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        # pdfium's last error is not reset by every failure (a PDF without pages leaves an earlier
        # file's "password" error in place), so a password is only blamed when the file has one.
        if error.err_code == pdfium.raw.FPDF_ERR_PASSWORD and b"/Encrypt" in data:
            raise InputError(f"{name} is password-protected; remove the password and open it again") from error
        raise InputError(f"{name} is not a valid PDF file (it may be damaged, or have no pages)") from error
    try:
        pages = [page_lines(pdf, index) for index in range(len(pdf))]
    finally:
        pdf.close()
    # A PDF without pages has no text at all, which load_document reports in its own words.
    if pages and not any(pages):
        raise InputError(f"{name} has no text layer: it looks like a scanned PDF, which needs OCR first")
    return pages


def page_lines(pdf: pdfium.PdfDocument, index: int) -> list[Line]:
    page = pdf[index]
    text_page = page.get_textpage()
    try:
        text = text_page.get_text_range()
        lines = []
        for match in LINE.finditer(text):
            raw = match.group()
            unmarked = raw.translate(HYPHEN_MARKS)
            line_text = unmarked.strip()
            if not line_text:
                continue
            # Each character of the text is one of pdfium's characters, so offsets are its indexes.
            first = match.start() + len(raw) - len(raw.lstrip())
            last = match.start() + len(raw.rstrip()) - 1
            _, _, _, top = text_page.get_charbox(first, loose=True)
            _, bottom, _, last_top = text_page.get_charbox(last, loose=True)
            codes = np.frombuffer(raw.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            kept = np.flatnonzero(~np.isin(codes, HYPHEN_MARK_CODES)) + match.start()
            leading = len(unmarked) - len(unmarked.lstrip())
            chars = kept[leading : leading + len(line_text)]
            lines.append(Line(line_text, top, bottom, last_top - bottom, chars))
        return lines
    finally:
        text_page.close()
        page.close()
