"""The formats the app reads, in one table: the loaders come from it, and so do the file types the
installers offer the app for (the Linux desktop entry, the Windows installer script and the macOS
bundle are checked against it by tests/test_file_types.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .document import Document
from .epub import load_epub
from .html_text import load_html
from .images import load_image
from .pdf import load_pdf
from .plain_text import load_markdown, load_text
from .word import load_docx

# Every loader takes (data, name, options): the stop check, and for a paged format a password and progress.
Loader = Callable[..., Document]


@dataclass(frozen=True)
class Format:
    name: str  # what a reader calls such a file
    suffixes: tuple[str, ...]  # "" is a file without one ("README"), read as plain text
    mime_types: tuple[str, ...]  # freedesktop.org's, for the desktop entry
    apple_types: tuple[str, ...]  # macOS uniform type identifiers, for the bundle
    loader: Loader
    paged: bool = False  # shown as its pages


FORMATS = (
    Format("Plain text", ("", ".txt", ".text"), ("text/plain",), ("public.plain-text",), load_text),
    Format(
        "Markdown document",
        (".md", ".markdown"),
        ("text/markdown", "text/x-markdown"),
        ("net.daringfireball.markdown",),
        load_markdown,
    ),
    Format(
        "HTML document",
        (".html", ".htm", ".xhtml"),
        ("text/html", "application/xhtml+xml"),
        ("public.html", "public.xhtml"),
        load_html,
    ),
    Format("PDF document", (".pdf",), ("application/pdf",), ("com.adobe.pdf",), load_pdf, paged=True),
    Format(
        "Word document",
        (".docx",),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
        ("org.openxmlformats.wordprocessingml.document",),
        load_docx,
    ),
    Format("EPUB book", (".epub",), ("application/epub+zip",), ("org.idpf.epub-container",), load_epub),
    # Images are read by OCR (images.py); a page each, a frame each for a multi-page TIFF.
    Format("PNG image", (".png",), ("image/png",), ("public.png",), load_image, paged=True),
    Format("JPEG image", (".jpg", ".jpeg"), ("image/jpeg",), ("public.jpeg",), load_image, paged=True),
    Format("TIFF image", (".tif", ".tiff"), ("image/tiff",), ("public.tiff",), load_image, paged=True),
)


def supported_suffixes() -> tuple[str, ...]:
    """Every suffix a supported file may have, without the empty one."""
    return tuple(suffix for form in FORMATS for suffix in form.suffixes if suffix)


def mime_types() -> tuple[str, ...]:
    return tuple(mime for form in FORMATS for mime in form.mime_types)


def is_paged(name: str) -> bool:
    """Whether a file of this name is read as pages (and can be shown as them)."""
    return any(form.paged for form in FORMATS if _suffix(name) in form.suffixes)


PAGED_DOCUMENTS = ("pdf", "image")  # the ``Document.format`` of what the paged loaders read


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""
