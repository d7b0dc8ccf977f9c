"""Plain text and Markdown: decoded with only line endings changed, so offsets index the file's text."""

from __future__ import annotations

import re

import charset_normalizer

from reading_assistant.core.documents.document import Document, Section, short_label
from reading_assistant.core.errors import InputError

# UTF-32 first: its little-endian mark begins with UTF-16's.
BYTE_ORDER_MARKS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# CommonMark: up to three spaces, one to six #, then a space or the end; a closing run of # is not text.
ATX_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
CODE_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def decode_text(data: bytes, name: str) -> str:
    """Decode text in whatever common encoding it is in; only line endings change (to ``\\n``).

    A UTF-8 file with ``\\n`` line endings comes back exactly as its characters are in the file.
    """
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return normalize_newlines(data[len(mark) :].decode(codec))
            except UnicodeDecodeError as error:
                raise InputError(f"{name} is damaged: it is not valid {codec.upper()} text") from error
    # Text in any single-byte or UTF-8 encoding has no NUL bytes; binary files nearly always do.
    if b"\x00" in data:
        raise InputError(f"{name} looks like a binary file, not text")
    try:
        return normalize_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    guess = legacy_encoding(data)
    if guess is None:
        raise InputError(f"{name} looks like a binary file, not text in an encoding this app knows")
    return normalize_newlines(str(guess))


def legacy_encoding(data: bytes) -> charset_normalizer.CharsetMatch | None:
    """The likeliest single- or multi-byte legacy encoding of ``data``, None for binary data.

    On a few lines of Western text charset-normalizer often ranks a Central European or even an East Asian
    code page first; Windows-1252, by far the most common legacy encoding, wins whenever it reads as well.
    """
    best = charset_normalizer.from_bytes(data).best()
    western = charset_normalizer.from_bytes(data, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos):
        return western
    return best


def normalize_newlines(text: str) -> str:
    # Windows and old Mac line endings become \n, the one line break the window and the engine count as one.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def load_text(data: bytes, name: str) -> Document:
    return Document(text=decode_text(data, name), name=name, format="text")


def load_markdown(data: bytes, name: str) -> Document:
    text = decode_text(data, name)
    return Document(text=text, name=name, format="markdown", sections=markdown_sections(text))


def markdown_sections(text: str) -> tuple[Section, ...]:
    """A section for each ATX heading (``# Title``) outside fenced code blocks, starting at its line."""
    sections = []
    fence = ""
    for line in re.finditer(r"[^\n]*", text):
        opening = CODE_FENCE.match(line.group())
        if fence:
            # A fence closes with a run of the same character at least as long as the one that opened it.
            if opening and opening.group(1).startswith(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        elif (heading := ATX_HEADING.fullmatch(line.group())) and heading.group(1):
            sections.append(Section(line.start(), short_label(heading.group(1))))
    return tuple(sections)
