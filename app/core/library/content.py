"""A document's extracted text and structure as the index keeps it: compressed JSON.

What a reader sees of a document without its file: the text, its sections, what is never an
answer and what is code. Pages (a PDF's boxes) are not kept; a paged document is shown from its
file, which the index only spares reading again for answers.
"""

from __future__ import annotations

import json
import zlib

from ..documents import Document, Section

LEVEL = 6


def pack(document: Document) -> bytes:
    fields = {
        "text": document.text,
        "format": document.format,
        "sections": [[s.start, s.label] for s in document.sections],
        "no_answer": [list(span) for span in document.no_answer_spans],
        "code": [list(span) for span in document.code_spans],
        "page_labels": list(document.page_labels),
    }
    return zlib.compress(json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass"), LEVEL)


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
