"""Reading files (text, Markdown, HTML, PDF, Word, EPUB) into the text the engine answers from.

Each loader returns a ``Document`` whose ``sections`` map character offsets to pages or chapters.
"""

from .document import Document, Section
from .formats import FORMATS, supported_suffixes
from .loading import load_document, read_stdin, text_document
from .plain_text import decode_text

__all__ = [
    "FORMATS",
    "Document",
    "Section",
    "decode_text",
    "load_document",
    "read_stdin",
    "supported_suffixes",
    "text_document",
]
