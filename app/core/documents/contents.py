"""Tables of contents and indexes in any format's text: kept, but never given as an answer.

A PDF's pages mark theirs line by line (``pdf_contents``); every document, whatever its format,
then passes through ``mark_text_contents``, which finds in the text itself:

- runs of lines with dot leaders and a page number ("Introduction ........ 5");
- runs of lines that each name a heading coming later in the document (an EPUB's or a web page's
  contents list, a Markdown file's list of links to its sections), a page number after it or not;
- runs of index entries ("harbour, 12, 45-47").

One pass over the lines; a heading's label is looked up in a dictionary, so a book costs what
splitting it into lines costs.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..stopping import StopCheck, checked, slices
from .document import Document
from .pdf_contents import INDEX_SHARE, MIN_INDEX_LINES, is_index_entry

MIN_LEADER_LINES = 2
MIN_HEADING_LINES = 3
# An entry's page number or dot leaders after its title: "Installation   12", "Usage ....... iv".
TRAILING_PAGE = re.compile(r"(?i)(?:\s*(?:[.\u00b7\u2026]\s?){2,}|\s{2,}|\t)\s*(?:\d{1,4}|[ivxlcdm]{1,8})$")
# A list's bullet, a section's number: "- Usage", "2.1 Options", "iv. Notes".
LIST_MARK = re.compile(r"(?i)^(?:[-*+\u2022]\s+)?(?:(?:\d+(?:\.\d+)*\.?|[ivxlcdm]{1,6}\.)\s+)?")
MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
WORDS = re.compile(r"\w+")
MAX_ENTRY_CHARS = 200
HEAD_CHARS = 400_000  # contents lists stand in the first part of a text
MAX_INDEX_GAP_CHARS = 2000
# A line ending in dot leaders and a page number; a line ending in an index entry's page numbers.
# The first four leaders spelt out: the engine then passes a lone full stop at once. A match begins
# only where a run of leaders does (the look-behinds after the first leader, so the engine still
# passes other characters at once), or a line of ten million full stops would be tried from each;
# the run is taken possessively, or the engine would keep a way back at each of them.
LEADER_LINE = re.compile(
    r"(?m)[.\u00b7\u2026](?<![.\u00b7\u2026][.\u00b7\u2026])(?<![.\u00b7\u2026][ \t][.\u00b7\u2026])"
    r"[ \t]?[.\u00b7\u2026][ \t]?[.\u00b7\u2026][ \t]?[.\u00b7\u2026](?:[ \t]?[.\u00b7\u2026])*+"
    r"[ \t]*(?:\d{1,4}|[ivxlcdmIVXLCDM]{1,8})[ \t]*$"
)
INDEX_TAIL = re.compile(r"(?m),[ \t]*\d{1,4}(?:[ \t]*[-\u2013][ \t]*\d{1,4})?[ \t]*$")
SHORT_LINE = re.compile(rf"(?m)^[^\n]{{1,{MAX_ENTRY_CHARS}}}$")
BLANK = re.compile(r"\s*")
TEXT_LINE = re.compile(r"(?m)^[ \t]*\S")


def mark_text_contents(document: Document, should_stop: StopCheck | None = None) -> Document:
    """``document`` with its contents lists and indexes added to ``no_answer_spans``."""
    found = contents_spans(document, should_stop)
    if not found:
        return document
    return replace(document, no_answer_spans=merged(document.no_answer_spans, found))


def contents_spans(document: Document, should_stop: StopCheck | None = None) -> list[tuple[int, int]]:
    """The (start, end) of every contents list or index found in the text, in order.

    Only candidate lines are looked at, found by a regular expression over the whole text (a line
    ending in leaders and a page number, or in ", 12"; a short line in the text's first
    ``HEAD_CHARS``, where contents lists stand, for the heading names): a 50 MB book costs a few
    regular-expression passes, not a Python step per line."""
    text = document.text
    spans: list[tuple[int, int]] = []
    spans += runs(text, lines_matching(text, LEADER_LINE, should_stop), MIN_LEADER_LINES, should_stop)
    entries = [
        (s, e)
        for s, e in checked(lines_matching(text, INDEX_TAIL, should_stop), should_stop)
        if is_index_entry(text[s:e].strip())
    ]
    spans += index_runs(text, entries, should_stop)
    headings = document.headings
    if len(headings) >= MIN_HEADING_LINES:
        # Each heading's words, mapped to the last place such a heading begins: an entry names a
        # heading that comes after it.
        heading_at = {
            key: section.start for section in checked(headings, should_stop) if (key := entry_key(section.label))
        }
        head = [(m.start(), m.end()) for m in SHORT_LINE.finditer(text, 0, HEAD_CHARS)]
        named = [(s, e) for s, e in checked(head, should_stop) if names_later_heading(text[s:e], s, heading_at)]
        spans += runs(text, named, MIN_HEADING_LINES, should_stop)
    return list(merged((), spans))


def lines_matching(text: str, pattern: re.Pattern[str], should_stop: StopCheck | None = None) -> list[tuple[int, int]]:
    """(start, end) of each line holding a match of ``pattern`` (which ends at its line's end).

    A slice of whole lines at a time: one regular-expression call over a whole book would hold the
    interpreter for a third of a second, and the window waits on it."""
    found = []
    for start, end in slices(text, should_stop, whole_lines=True):
        found += [(text.rfind("\n", 0, m.start()) + 1, m.end()) for m in pattern.finditer(text, start, end)]
    return found


def entry_key(label: str) -> str:
    """What a heading or a contents entry says, for matching one to the other: its words, case-folded,
    without a page number, leaders, a list mark or a Markdown link's target."""
    label = LIST_MARK.sub("", MARKDOWN_LINK.sub(r"\1", label).strip())
    label = TRAILING_PAGE.sub("", label)
    return " ".join(WORDS.findall(label.casefold()))


def names_later_heading(line: str, start: int, heading_at: dict[str, int]) -> bool:
    if len(line) > MAX_ENTRY_CHARS:
        return False
    key = entry_key(line)
    return bool(key) and heading_at.get(key, -1) > start


def runs(
    text: str, hits: list[tuple[int, int]], least: int, should_stop: StopCheck | None = None
) -> list[tuple[int, int]]:
    """Spans of ``least`` or more hit lines in a row: nothing but blank lines between them."""
    spans, group = [], []
    for start, end in checked([*hits, (-1, -1)], should_stop):
        if group and start >= 0 and BLANK.fullmatch(text, group[-1][1], start):
            group.append((start, end))
            continue
        if len(group) >= least:
            spans.append((group[0][0], group[-1][1]))
        group = [(start, end)]
    return spans


def index_runs(
    text: str, entries: list[tuple[int, int]], should_stop: StopCheck | None = None
) -> list[tuple[int, int]]:
    """An index: ``MIN_INDEX_LINES`` entries or more, with at least ``INDEX_SHARE`` of the lines with
    text from the first entry to the last being entries (a letter's heading or a wrapped entry
    between them)."""
    spans: list[tuple[int, int]] = []
    group: list[tuple[int, int]] = []
    lines = 0  # lines with text from the group's first entry to its last
    for start, end in checked(entries, should_stop):
        if group:
            # Entries far apart are two lists (and the lines between them are not counted one by one).
            far = start - group[-1][1] > MAX_INDEX_GAP_CHARS
            between = 0 if far else sum(1 for _ in TEXT_LINE.finditer(text, group[-1][1], start))
            if far or len(group) + 1 < INDEX_SHARE * (lines + between + 1):
                spans += _index_span(group)
                group, lines = [], 0
            else:
                lines += between
        group.append((start, end))
        lines += 1
    return spans + _index_span(group)


def _index_span(group: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(group[0][0], group[-1][1])] if len(group) >= MIN_INDEX_LINES else []


def merged(*groups: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted spans with the overlapping and touching ones joined."""
    spans = sorted(span for group in groups for span in group)
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)
