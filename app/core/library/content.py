"""A document's extracted text and structure as the index keeps it: compressed JSON.

What a reader sees of a document without its file: the text, its sections, what is never an
answer and what is code. Pages (a PDF's boxes) are not kept; a paged document is shown from its
file, which the index only spares reading again for answers.
"""

from __future__ import annotations

import json
import zlib
from json.encoder import encode_basestring

from ..documents import Document, Section
from ..stopping import StopCheck, checked, slices

LEVEL = 6
PACK_CHARS = 1 << 18  # compressed between two stop checks (zlib takes about 20 MB a second)


def pack(document: Document, should_stop: StopCheck | None = None) -> bytes:
    """The document as compressed JSON; its text, most of it, escaped and compressed a slice at a
    time with a stop check before each (a book's whole text at once takes a second)."""
    rest = {
        "format": document.format,
        "sections": [[s.start, s.label] for s in checked(document.sections, should_stop)],
        "no_answer": [list(span) for span in document.no_answer_spans],
        "code": [list(span) for span in document.code_spans],
        "page_labels": list(document.page_labels),
    }
    compressor = zlib.compressobj(LEVEL)
    # {"text": "...", "format": ...}: the text's JSON string without its quotes, a slice at a time.
    parts = [compressor.compress(b'{"text": "')]
    for start, end in slices(document.text, should_stop, PACK_CHARS):
        escaped = encode_basestring(document.text[start:end])[1:-1]
        parts.append(compressor.compress(escaped.encode("utf-8", "surrogatepass")))
    tail = '", ' + json.dumps(rest, ensure_ascii=False)[1:]
    parts += [compressor.compress(tail.encode("utf-8", "surrogatepass")), compressor.flush()]
    return b"".join(parts)


def unpack(blob: bytes, name: str, origin: str | None = None) -> Document:
    fields = json.loads(zlib.decompress(blob).decode("utf-8", "surrogatepass"))
    return Document(
        text=fields["text"],
        name=name,
        format=fields["format"],
        sections=tuple(Section(start, label) for start, label in fields["sections"]),
        origin=origin,
        page_labels=tuple(fields["page_labels"]),
        no_answer_spans=tuple((s, e) for s, e in fields["no_answer"]),
        code_spans=tuple((s, e) for s, e in fields["code"]),
    )
