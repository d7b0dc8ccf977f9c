"""What the window says, in a reader's words: sentences with a capital, plurals, shares of a document."""

from __future__ import annotations

from bisect import bisect_right

from ..core.documents import Document
from ..core.documents.document import PAGE_SECTION
from ..core.evidence import percent
from ..core.library.asking import LIBRARY_FORMAT
from ..core.reading import Prediction


def sentence(message: str) -> str:
    """``message`` with a capital first letter: core errors start in lower case ("no such file: …");
    but not when it starts with a file's name or an identifier ("scanned.pdf cannot be read")."""
    message = message.strip()
    first = message.split(maxsplit=1)[0] if message else ""
    if any(c in first for c in "./\\_") or any(c.isdigit() for c in first):
        return message
    return message[:1].upper() + message[1:] if message else message


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 word', '12 words', '1,569 answers'."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def share(done: int, total: int) -> str:
    """How much of a document ``done`` of ``total`` windows is: '38%', 'less than 1%', 'all'."""
    if total <= 0 or done >= total:
        return "all"
    percent = 100 * done / total
    if percent < 1:
        return "less than 1%"
    return f"{min(99, round(percent))}%"


def share_read(done: int, total: int, kind: str = "document") -> str:
    """'38% of the document read', 'the whole document read'."""
    part = share(done, total)
    return f"the whole {kind} read" if part == "all" else f"{part} of the {kind} read"


def document_kind(document: Document | None) -> str:
    """What a reader calls the open document: 'book' for EPUB, 'text' for pasted text, the passages
    of a question asked of the library as such, else 'document'."""
    if document is None:
        return "document"
    if document.format == "epub":
        return "book"
    if document.format == LIBRARY_FORMAT:
        return "selection from your library"
    if document.name in ("Pasted text", "Dropped text"):
        return "text"
    return "document"


# Long texts are scanned in slices of this many characters, so no single step holds the
# interpreter (and with it the window) for long.
SLICE_CHARS = 1 << 20


def count_words(text: str, slice_chars: int = SLICE_CHARS) -> int:
    """``len(text.split())``, a slice at a time (a word cut by a slice's edge counted once)."""
    count = 0
    for start in range(0, len(text), slice_chars):
        piece = text[start : start + slice_chars]
        count += len(piece.split())
        if start and not piece[:1].isspace() and not text[start - 1].isspace():
            count -= 1  # the word goes on from the slice before
    return count


class LineIndex:
    """Line numbers of character offsets, for documents that have no pages or headings.

    Lines are counted on demand from the nearest offset already counted, so a book of a million
    lines is never indexed as a whole while the window waits.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._known = [(0, 1)]  # (offset, line at that offset), sorted

    def line(self, offset: int) -> int:
        offset = max(0, min(offset, len(self._text)))
        index = bisect_right(self._known, (offset, float("inf"))) - 1
        known, line = self._known[index]
        line += self._text.count("\n", known, offset)
        self._known.insert(index + 1, (offset, line))
        return line


class Locator:
    """Where an answer is: the document's page, chapter or heading, else its line ('line 1,204')."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._lines: LineIndex | None = None

    def __call__(self, offset: int) -> str:
        label = self.document.location(offset)
        if label:
            return shown_label(label)
        if self._lines is None:
            self._lines = LineIndex(self.document.text)
        return f"Line {self._lines.line(offset):,}"


def verdict_change(before: Prediction, after: Prediction, kind: str = "document") -> str:
    """After Read the Rest, a sentence when the verdict is not the one shown before it: a settled
    "no answer" that became an answer, or answers that became "no answer"; "" when it held."""
    if before.has_answer == after.has_answer:
        return ""
    part = share(before.windows, before.total_windows)
    if after.has_answer:
        return (
            f"After reading the whole {kind}, these answers replace the earlier verdict: its most relevant "
            f"{part} held none ({percent(before.no_answer_score)} no answer)."
        )
    return (
        f"After reading the whole {kind}, it does not seem to answer this after all: the answers found in its "
        f"most relevant {part} were outweighed."
    )


def shown_label(label: str) -> str:
    """A section's label as the margin and the answers show it: a page the app named gets a capital
    ("Page vi"); a heading stays as the document writes it ("libffi manual", "scanned.pdf")."""
    return "P" + label[1:] if PAGE_SECTION.fullmatch(label) else label
