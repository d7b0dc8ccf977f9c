"""A document's text with its source map, and the builder the loaders assemble both with."""

from __future__ import annotations

import re
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .source_map import SourceMap, SourceMapBuilder

PARAGRAPH_BREAK = "\n\n"
LINE_BREAK = "\n"
MAX_LABEL_CHARS = 80
# The label of a section that marks where a page begins (``page_document``), not a heading.
PAGE_SECTION = re.compile(r"page \S+")


@dataclass(frozen=True)
class Section:
    """Where a page, chapter or heading begins in ``Document.text``."""

    start: int
    label: str


def new_document_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Document:
    """A document's text; answer offsets index ``text`` exactly, ``sections`` say where they are.

    ``id`` tells it from every other document (two "Pasted text" are two documents): an answer
    read from it names it, so answers from several documents never mix. A format with pages (PDF)
    has a ``source_map`` from the text back to each page's characters.
    """

    text: str
    name: str
    format: str
    sections: tuple[Section, ...] = ()
    id: str = field(default_factory=new_document_id, compare=False)
    source_map: SourceMap | None = field(default=None, compare=False, repr=False)
    # A paged format's page labels as printed ("vi", "6"; the physical number where the file has
    # none), one per page; empty for formats without pages.
    page_labels: tuple[str, ...] = field(default=(), compare=False, repr=False)
    # The file it was read from, so a view can show its pages; None for pasted text or an upload.
    origin: str | None = field(default=None, compare=False)
    # (start, end) spans of text that is never an answer (a table of contents, an index): sorted,
    # never overlapping.
    no_answer_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)
    # (start, end) spans of code (a web page's <pre>, a Markdown fence): shown in a monospace font.
    code_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        starts = [section.start for section in self.sections]
        if starts != sorted(starts):
            raise ValueError("sections must be sorted by start")

    @cached_property
    def headings(self) -> tuple[Section, ...]:
        """The sections that a heading begins (chapters, titles), without those that mark pages
        (found once: a book has a hundred thousand sections, and the window and the engine ask)."""
        return tuple(section for section in self.sections if not PAGE_SECTION.fullmatch(section.label))

    def has_headings(self, least: int) -> bool:
        """Whether at least ``least`` sections are headings; stops counting there (the window asks
        each time a document is shown, when a book's hundred thousand would take a while)."""
        found = 0
        for section in self.sections:
            found += not PAGE_SECTION.fullmatch(section.label)
            if found >= least:
                return True
        return False

    def location(self, offset: int) -> str | None:
        """Where ``offset`` is: for a paged format, the page its character came from ("page vi"; for
        a character the loader added, the page of the nearest copied one before it), else the label
        of the section holding it; None when there is neither."""
        page = self.source_map.page_at_or_before(offset) if self.source_map is not None else None
        if page is not None:
            return f"page {self.page_labels[page] if page < len(self.page_labels) else page + 1}"
        index = bisect_right(self.sections, offset, key=lambda section: section.start) - 1
        return self.sections[index].label if index >= 0 else None


def short_label(text: str) -> str:
    """One line of at most ``MAX_LABEL_CHARS``: a heading can be a whole paragraph in a badly made file."""
    label = " ".join(text.split())
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


class TextBuilder:
    """Joins blocks of text with line or paragraph breaks and records where sections begin."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._sections: list[Section] = []
        self._sources = SourceMapBuilder()
        self._no_answer: list[tuple[int, int]] = []
        self._code: list[tuple[int, int]] = []

    def add(
        self,
        block: str,
        gap: str = PARAGRAPH_BREAK,
        section: str | None = None,
        source: tuple[int, np.ndarray] | None = None,
        no_answer: bool = False,
        heading: str | None = None,
        code: bool = False,
    ) -> None:
        """Append ``block`` after ``gap``; ``section`` labels the section that begins with it,
        ``source`` (page, each character's index on it, -1 for none) says where it came from,
        ``no_answer`` that no answer is ever taken from it, ``heading`` that it is a heading (a
        section of its own, recorded before ``section``, which names its page), ``code`` that it is
        code (shown in a monospace font).

        A block with no text is dropped with its label, so an empty page or chapter gets no section.
        """
        if not block.strip():
            return
        if self._parts:
            self._append(gap)
        for label in (heading, section):
            if label is not None:
                self._sections.append(Section(self._length, short_label(label)))
        if source is not None:
            self._sources.add(self._length, *source)
        if no_answer:
            self._no_answer.append((self._length, self._length + len(block)))
        if code:
            self._code.append((self._length, self._length + len(block)))
        self._append(block)

    def add_page_boxes(self, page: int, boxes: np.ndarray) -> None:
        """See ``SourceMapBuilder.add_page_boxes``."""
        self._sources.add_page_boxes(page, boxes)

    def document(self, name: str, format: str, page_labels: tuple[str, ...] = ()) -> Document:
        return Document(
            text="".join(self._parts),
            name=name,
            format=format,
            sections=tuple(self._sections),
            source_map=self._sources.build(),
            page_labels=page_labels,
            no_answer_spans=tuple(self._no_answer),
            code_spans=tuple(self._code),
        )

    def _append(self, text: str) -> None:
        self._parts.append(text)
        self._length += len(text)
