"""The pages of a file, for a view: a PDF's, or the frames of an image file, which have the same face."""

from __future__ import annotations

from pathlib import Path

from .image_pages import ImagePages
from .pages import PdfPages

Pages = PdfPages | ImagePages


def open_pages(path: str | Path, password: str | None = None) -> Pages:
    """The pages of a PDF or of an image file, for showing; ``close`` them when done."""
    if Path(path).suffix.lower() == ".pdf":
        return PdfPages(path, password)
    return ImagePages(path)
