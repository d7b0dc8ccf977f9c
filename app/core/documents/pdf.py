"""PDF: the text layer page by page through pdfium, and pages without one (a scan, or a few scanned
pages in a typeset file) read by OCR; page layout is undone for both (``page_document``), each page's
section is named by its printed label, and a source map leads from the text back to the pages."""

from __future__ import annotations

import logging

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import InputError, ModelError, PasswordNeeded
from . import ocr, ocr_cache
from .document import Document
from .load_options import NO_OPTIONS, LoadOptions
from .ocr_text import ocr_pdf_page, page_text
from .page_document import document_from_pages
from .pdf_layout import Line
from .pdf_page import page_lines
from .pdfium_lock import PDFIUM

log = logging.getLogger(__name__)


def load_pdf(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    pages, labels, boxes = read_pages(data, name, options)
    return document_from_pages(pages, labels, name, "pdf", boxes, options.should_stop)


def read_pages(
    data: bytes, name: str, options: LoadOptions = NO_OPTIONS
) -> tuple[list[list[Line]], list[str], dict[int, np.ndarray]]:
    """Every page's lines, its label as printed, and the character boxes of the pages read by OCR
    (a page without a text layer that holds a picture); a page with neither has no lines."""
    pdf = open_pdf(data, name, options.password)
    scans = ScannedPages(data, name)
    try:
        with PDFIUM:
            count = len(pdf)
            labels = [pdf.get_page_label(index) or str(index + 1) for index in range(count)]
        # The one place the pages are read: each page takes the lock on its own, so the window's
        # renderer gets its turn between them.
        pages: list[list[Line]] = []
        boxes: dict[int, np.ndarray] = {}
        for index in range(count):
            options.check_stop()
            lines = page_lines(pdf, index)
            if not lines and has_pictures(pdf, index):
                lines, boxes[index] = scans.read(pdf, index, options)
            pages.append(lines)
    finally:
        with PDFIUM:
            pdf.close()
    # A PDF without pages has no text at all, which load_document reports in its own words.
    if pages and not any(pages):
        raise InputError(scans.why_no_text())
    return pages, labels, {index: page_boxes for index, page_boxes in boxes.items() if len(page_boxes)}


class ScannedPages:
    """Reads the pages without a text layer by OCR, if OCR is installed (else they stay empty and the
    reason is kept); the file's digest, which keys the OCR cache, is taken once, when first needed."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.name = data, name
        self.digest: str | None = None
        self.unavailable: str | None = None
        self.found = 0

    def read(self, pdf: pdfium.PdfDocument, index: int, options: LoadOptions) -> tuple[list[Line], np.ndarray]:
        self.found += 1
        if self.unavailable is None:
            try:
                ocr.models_dir()
            except ModelError as error:
                self.unavailable = str(error)
                log.warning("%s: pages without a text layer are left out: %s", self.name, error)
        if self.unavailable is not None:
            return [], np.zeros((0, 4), dtype=np.float32)
        if self.digest is None:
            self.digest = ocr_cache.file_digest(self.data)
        text = page_text(ocr_pdf_page(pdf, index, self.digest, options))
        return text.lines, text.boxes

    def why_no_text(self) -> str:
        if self.unavailable is not None:
            return f"{self.name} has no text layer (it looks like a scanned PDF) and cannot be read: {self.unavailable}"
        if self.found:
            return f"no text was found in {self.name} by OCR (it reads printed text; these pages may have none)"
        return f"{self.name} has no text layer and no pictures of text to read by OCR"


def has_pictures(pdf: pdfium.PdfDocument, index: int) -> bool:
    """Whether the page draws an image (a scan is one): a page of drawings alone is not read by OCR."""
    with PDFIUM:
        page = pdf[index]
        try:
            return any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4))
        finally:
            page.close()


def open_pdf(data: bytes, name: str, password: str | None) -> pdfium.PdfDocument:
    with PDFIUM:
        try:
            return pdfium.PdfDocument(data, password=password)
        except pdfium.PdfiumError as error:
            # pdfium's last error is not reset by every failure (a PDF without pages leaves an earlier
            # file's "password" error in place), so a password is only blamed when the file has one.
            if error.err_code == pdfium.raw.FPDF_ERR_PASSWORD and b"/Encrypt" in data:
                if password:
                    raise PasswordNeeded(f"The password given for {name} is not the right one.", wrong=True) from error
                raise PasswordNeeded(f"{name} is password-protected: give its password to open it.") from error
            raise InputError(f"{name} is not a valid PDF file (it may be damaged, or have no pages)") from error
