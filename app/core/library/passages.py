"""A document's text cut into passages, the unit the library indexes by words and by meaning.

A passage is whole paragraphs up to about ``PASSAGE_CHARS`` characters: the embedding model reads
256 tokens, about 1,000 characters of English, and the reader model's window holds a passage with
room for the question. A longer paragraph is cut at sentence ends (at a space when a sentence runs
on). Text that is never an answer (a table of contents, an index) is left out: it names every
heading and would outrank the chapters themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..stopping import CHECK_EVERY, StopCheck, check_stop, checked

PASSAGE_CHARS = 1000
# Lines up to a blank line, trimmed; the lines are taken possessively (no way back kept at each).
PARAGRAPH = re.compile(r"\S(?:.*\S)?(?:\n[^\S\n]*\S.*)*+")
SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")
HAS_LETTER = re.compile(r"[^\W\d_]")


def passage_spans(
    text: str,
    limit: int = PASSAGE_CHARS,
    skipped: Sequence[tuple[int, int]] = (),
    should_stop: StopCheck | None = None,
) -> list[tuple[int, int]]:
    """(start, end) of each passage of ``text``, in order; none overlaps a span of ``skipped``
    (sorted, as ``Document.no_answer_spans`` are) and each holds a letter."""
    spans: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    skip = iter(skipped)
    next_skip = next(skip, None)
    for match in checked(PARAGRAPH.finditer(text), should_stop):
        start, end = match.span()
        while next_skip is not None and next_skip[1] <= start:
            next_skip = next(skip, None)
        if next_skip is not None and next_skip[0] < end:
            continue  # a paragraph of a contents list or an index
        if current is not None and end - current[0] > limit:
            spans.append(current)
            current = None
        if end - start > limit:
            spans += _cut(text, start, end, limit, should_stop)
        elif current is None:
            current = (start, end)
        else:
            current = (current[0], end)
    if current is not None:
        spans.append(current)
    return [(s, e) for s, e in checked(spans, should_stop) if HAS_LETTER.search(text, s, e)]


def _cut(text: str, start: int, end: int, limit: int, should_stop: StopCheck | None) -> list[tuple[int, int]]:
    """A long paragraph as pieces of at most ``limit`` characters, each ending at a sentence's end
    where one falls in its second half, else at a space, else (a run without spaces) at the limit."""
    pieces = []
    while end - start > limit:
        if len(pieces) % CHECK_EVERY == 0:
            check_stop(should_stop)
        stop = start + limit
        cut = -1
        for sentence in SENTENCE_END.finditer(text, start + limit // 2, stop):
            cut = sentence.start() + len(sentence.group().rstrip())
        if cut < 0:
            space = text.rfind(" ", start + limit // 2, stop)
            cut = space if space > start else stop
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces
