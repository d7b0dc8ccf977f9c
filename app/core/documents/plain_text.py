"""Plain text and Markdown: decoded with only line endings changed, so offsets index the file's text."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

import charset_normalizer

from ..errors import InputError
from ..stopping import StopCheck, check_stop, checked, slices
from .document import Document, Section, short_label
from .load_options import NO_OPTIONS, LoadOptions

# UTF-32 first: its little-endian mark begins with UTF-16's.
BYTE_ORDER_MARKS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# CommonMark: up to three spaces, then one to six #, then a space, a tab or the end of the line.
ATX_OPENING = re.compile(r" {0,3}(#{1,6})(?=[ \t]|$)")
CODE_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
DECODE_BYTES = 1 << 22  # decoded between two stop checks: a few milliseconds
LINES_BYTES = 1 << 18  # split into lines between two stop checks (a file of empty lines has a line a byte)
LEGACY_SAMPLE_BYTES = 1 << 18  # what a legacy encoding is guessed from


def decode_text(data: bytes, name: str, should_stop: StopCheck | None = None) -> str:
    """Decode text in whatever common encoding it is in; only line endings change (to ``\\n``).

    A UTF-8 file with ``\\n`` line endings comes back exactly as its characters are in the file (a
    byte-order mark is not part of the text). Decoded a slice at a time, asking ``should_stop``
    between slices.
    """
    for mark, codec in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return normalize_newlines(decoded(data, codec, should_stop, skip=len(mark)), should_stop)
            except UnicodeDecodeError as error:
                raise InputError(f"{name} is damaged: it is not valid {codec.upper()} text") from error
    if b"\x00" in data:
        # Text in any single-byte or UTF-8 encoding has no NUL bytes; binary files nearly always do,
        # and so does UTF-16 written without a byte-order mark.
        text = utf16_without_mark(data, should_stop)
        if text is None:
            raise InputError(f"{name} looks like a binary file, not text")
        return normalize_newlines(text, should_stop)
    try:
        return normalize_newlines(decoded(data, "utf-8", should_stop), should_stop)
    except UnicodeDecodeError:
        pass
    text = mixed_utf8_lines(data, should_stop)
    if text is None:
        codec = legacy_encoding(data)
        if codec is None:
            raise InputError(f"{name} looks like a binary file, not text in an encoding this app knows")
        # The encoding is guessed from a sample: a byte it cannot read further on is U+FFFD.
        text = decoded(data, codec, should_stop, errors="replace")
    return normalize_newlines(text, should_stop)


def decoded(data: bytes, codec: str, should_stop: StopCheck | None, skip: int = 0, errors: str = "strict") -> str:
    """``data[skip:]`` decoded, ``DECODE_BYTES`` at a time with a stop check before each."""
    if len(data) - skip <= DECODE_BYTES:
        return data[skip:].decode(codec, errors)
    decoder = codecs.getincrementaldecoder(codec)(errors)
    view = memoryview(data)
    parts = []
    for start in range(skip, len(data), DECODE_BYTES):
        check_stop(should_stop)
        parts.append(decoder.decode(view[start : start + DECODE_BYTES], final=start + DECODE_BYTES >= len(data)))
    return "".join(parts)


def utf16_without_mark(data: bytes, should_stop: StopCheck | None = None) -> str | None:
    """UTF-16 text with no byte-order mark: ASCII-range characters put a NUL in every other byte."""
    sample = data[:65536]
    if len(data) % 2 or len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    codec = "utf-16-le" if odd > 0.3 * half and even < 0.02 * half else None
    codec = codec or ("utf-16-be" if even > 0.3 * half and odd < 0.02 * half else None)
    if codec is None:
        return None
    try:
        text = decoded(data, codec, should_stop)
    except UnicodeDecodeError:
        return None
    # Decoded binary data is full of control characters; text has almost none but line breaks and tabs.
    controls = sum(1 for c in text[:32768] if c < " " and c not in "\t\n\r\f")
    return text if controls <= len(text[:32768]) // 100 else None


def mixed_utf8_lines(data: bytes, should_stop: StopCheck | None = None) -> str | None:
    """Text whose lines are mostly UTF-8 but some in a legacy encoding (files pasted together).

    Each line that is valid UTF-8 is read as UTF-8, the others in the legacy encoding that reads them
    best (guessed from the first of them); None when no line needs UTF-8 (then the whole file is in
    one legacy encoding). A slice of lines at a time: a file of empty lines has millions.
    """
    legacy_lines, legacy_bytes, utf8_text = [], 0, False
    for start, end in slices(data, should_stop, LINES_BYTES, whole_lines=True):
        for line in data[start:end].split(b"\n"):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_text = True
            except UnicodeDecodeError:
                if legacy_bytes < LEGACY_SAMPLE_BYTES:
                    legacy_lines.append(line)
                    legacy_bytes += len(line) + 1
    if not utf8_text:
        return None
    codec = legacy_encoding(b"\n".join(legacy_lines)) or "cp1252"
    return "".join(
        "\n".join(_utf8_or(line, codec) for line in data[start:end].split(b"\n"))
        for start, end in slices(data, should_stop, LINES_BYTES, whole_lines=True)
    )


def _utf8_or(line: bytes, codec: str) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode(codec, errors="replace")


def legacy_encoding(data: bytes) -> str | None:
    """The likeliest single- or multi-byte legacy encoding of ``data``, None for binary data; guessed
    from its first ``LEGACY_SAMPLE_BYTES`` (charset-normalizer decodes what it is given once for each
    encoding it tries, a second a megabyte, and cannot be stopped).

    On a few lines of Western text charset-normalizer often ranks a Central European or even an East Asian
    code page first; Windows-1252, by far the most common legacy encoding, wins whenever it reads as well.
    """
    sample = data
    if len(data) > LEGACY_SAMPLE_BYTES:
        # Cut after white space, which no multi-byte legacy encoding uses inside a character.
        sample = data[:LEGACY_SAMPLE_BYTES]
        cut = max(sample.rfind(space) for space in (b"\n", b" ", b"\t", b"\r"))
        sample = sample[: cut + 1] if cut > 0 else sample
    best = charset_normalizer.from_bytes(sample).best()
    western = charset_normalizer.from_bytes(sample, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos):
        return western.encoding
    return None if best is None else best.encoding


def normalize_newlines(text: str, should_stop: StopCheck | None = None) -> str:
    # Windows and old Mac line endings become \n, the one line break the window and the engine count as one.
    if "\r" not in text:
        return text
    return "".join(text[s:e].replace("\r\n", "\n").replace("\r", "\n") for s, e in slices(text, should_stop))


def load_text(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    text = decode_text(data, name, options.should_stop)
    return Document(text=text, name=name, format="text", sections=text_sections(text, options.should_stop))


MAX_HEADING_CHARS = 80
NUMBERED_TITLE = re.compile(r"(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.|(?:Chapter|Part|Section|Appendix) \w+)\s+\S")
UNDERLINE = re.compile(r"[^\S\n]{0,3}(?:={3,}|-{3,})[^\S\n]*$")
MAX_HEADING_WORDS = 12


def text_sections(text: str, should_stop: StopCheck | None = None) -> tuple[Section, ...]:
    """A section for each heading of a plain-text file: a line underlined with === or ---, or a short
    line with blank lines around it that begins with a capital or a number, does not end as a sentence
    does, and is followed by a longer block (a chapter's title, a licence's "TERMS AND CONDITIONS",
    a manual's "DESCRIPTION"). One pass over the lines."""
    lines = list(text_lines(text, should_stop))
    sections = []
    for index, (start, line) in enumerate(checked(lines, should_stop)):
        title = line.strip() if len(line) <= 2 * MAX_HEADING_CHARS else ""
        if (
            not title
            or len(title) > MAX_HEADING_CHARS
            or title[-1] in ".,;:!?"
            or len(title.split()) > MAX_HEADING_WORDS
        ):
            continue
        before = lines[index - 1][1] if index else ""
        after = lines[index + 1][1] if index + 1 < len(lines) else ""
        if UNDERLINE.match(after) and not UNDERLINE.match(line) and not before.strip():
            sections.append(Section(start, short_label(title)))
            continue
        body = lines[index + 2][1].strip() if index + 2 < len(lines) else ""
        # A title in capitals ("DESCRIPTION") or a numbered one stands as it is; any other needs a
        # longer block after it, so a letter's "Best regards" above a name is no heading.
        marked = title.isupper() or NUMBERED_TITLE.match(title) is not None
        if (
            not before.strip()
            and not after.strip()
            and body
            and (title[0].isupper() or title[0].isdigit())
            and any(c.isalpha() for c in title)
            and (marked or len(body) > 2 * len(title))
        ):
            sections.append(Section(start, short_label(title)))
    return tuple(sections)


def text_lines(text: str, should_stop: StopCheck | None = None) -> Iterator[tuple[int, str]]:
    """(start, line) of each line of ``text`` (the last one empty when it ends with a line break),
    a slice of lines at a time."""
    for start, end in slices(text, should_stop, whole_lines=True):
        lines = text[start:end].split("\n")
        if end < len(text):
            lines.pop()  # the slice ends with its last line's break; the next line begins the next slice
        for line in lines:
            yield start, line
            start += len(line) + 1


def load_markdown(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    text = decode_text(data, name, options.should_stop)
    sections, code = markdown_structure(text, options.should_stop)
    return Document(text=text, name=name, format="markdown", sections=sections, code_spans=code)


def markdown_structure(
    text: str, should_stop: StopCheck | None = None
) -> tuple[tuple[Section, ...], tuple[tuple[int, int], ...]]:
    """A section for each ATX heading (``# Title``) outside fenced code blocks, starting at its line;
    and each fenced code block's span, its fences included (an unclosed one runs to the end)."""
    sections = []
    code = []
    fence, fence_start = "", 0
    for start, line in checked(text_lines(text, should_stop), should_stop):
        opening = CODE_FENCE.match(line)
        if fence:
            # A fence closes with a run of the same character at least as long as the one that opened it.
            if opening and opening.group(1).startswith(fence):
                fence = ""
                code.append((fence_start, start + len(line)))
        elif opening:
            fence, fence_start = opening.group(1), start
        elif title := atx_heading(line):
            sections.append(Section(start, short_label(title)))
    if fence:
        code.append((fence_start, len(text)))
    return tuple(sections), tuple(code)


def atx_heading(line: str) -> str:
    """The title of an ATX heading line (``## Title ##``), or "" if the line is not one.

    Parsed by hand, in one pass: a regular expression for the optional closing run of # backtracks
    over long runs of spaces (a 50,000-space heading took 20 s).
    """
    opening = ATX_OPENING.match(line)
    if opening is None:
        return ""
    title = line[opening.end() :].strip(" \t")
    # A closing run of # counts only after a space or a tab (or when it is all there is).
    closing = title.rstrip("#")
    if closing != title and (not closing or closing[-1] in " \t"):
        title = closing.rstrip(" \t")
    return title
