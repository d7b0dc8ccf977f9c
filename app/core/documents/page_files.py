"""The pages of a file, for a view: a PDF's, or the frames of an image file, which have the same face."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import InputError
from .image_pages import ImagePages
from .pages import PdfPages
from .sniffing import PDF_MARK, PDF_MARK_WITHIN

Pages = PdfPages | ImagePages


def open_pages(path: str | Path, password: str | None = None) -> Pages:
    """The pages of a PDF or of an image file (whatever its name says), for showing; ``close`` them."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe would block the open for ever
            raise InputError(f"{Path(path).name} is not a regular file")
        with open(path, "rb") as file:
            head = file.read(PDF_MARK_WITHIN)
    except OSError as error:
        raise InputError(f"cannot read {Path(path).name}: {error.strerror or error}") from error
    if PDF_MARK in head:
        return PdfPages(path, password)
    return ImagePages(path)
