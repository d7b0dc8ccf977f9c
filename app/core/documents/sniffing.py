"""What a file is, from its first bytes, when its name does not say ("LICENSE", "Apache-2.0",
"notes.log", a download saved without a suffix): a PDF, an image, a zip that is a Word document or an
EPUB book, HTML, or text in any common encoding; None for anything else (a binary the app cannot read).
"""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import InputError
from .plain_text import decode_text

PDF_MARK = b"%PDF-"
PDF_MARK_WITHIN = 1024  # pdfium, as Acrobat, finds the header anywhere in the first kilobyte
IMAGE_MARKS = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"II*\x00": ".tif", b"MM\x00*": ".tif"}
ZIP_MARK = b"PK\x03\x04"
HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)
# Programs, archives, media and databases: their first bytes, with a NUL soon after (as every one
# of these headers has), so text that happens to begin with "MZ" or "BM" is still text.
BINARY_MARKS = (
    b"MZ",
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xd0\xcf\x11\xe0",
    b"GIF8",
    b"BM",
    b"RIFF",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"\x1a\x45\xdf\xa3",
    b"SQLite format 3",
)
BINARY_NUL_WITHIN = 512
TEXT_SAMPLE = 1 << 20  # bytes decoded to tell text from binary: enough for any encoding's evidence


def sniffed_suffix(data: bytes, name: str) -> str | None:
    """The suffix of the format ``data`` is in (".txt" for text), or None when it is none of them."""
    if PDF_MARK in data[:PDF_MARK_WITHIN]:
        return ".pdf"
    for mark, suffix in IMAGE_MARKS.items():
        if data.startswith(mark):
            return suffix
    if data.startswith(ZIP_MARK):
        return _zip_suffix(data)
    if HTML_START.match(data[:4096]):
        return ".html"
    if data.startswith(BINARY_MARKS) and b"\x00" in data[:BINARY_NUL_WITHIN]:
        return None
    try:
        decode_text(data[:TEXT_SAMPLE], name)
    except InputError:
        return None
    return ".txt"


def _zip_suffix(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "word/document.xml" in names:
        return ".docx"
    if "META-INF/container.xml" in names:
        return ".epub"
    return None
