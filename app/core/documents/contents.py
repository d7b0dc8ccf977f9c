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

from .document import Document
from .pdf_contents import INDEX_ENTRY, INDEX_SHARE, LEADER, MIN_INDEX_LINES

MIN_LEADER_LINES = 2
MIN_HEADING_LINES = 3
# An entry's page number or dot leaders after its title: "Installation   12", "Usage ....... iv".
TRAILING_PAGE = re.compile(r"(?i)(?:\s*(?:[.\u00b7\u2026]\s?){2,}|\s{2,}|\t)\s*(?:\d{1,4}|[ivxlcdm]{1,8})$")
# A list's bullet, a section's number: "- Usage", "2.1 Options", "iv. Notes".
LIST_MARK = re.compile(r"(?i)^(?:[-*+\u2022]\s+)?(?:(?:\d+(?:\.\d+)*\.?|[ivxlcdm]{1,6}\.)\s+)?")
MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
WORDS = re.compile(r"\w+")
MAX_ENTRY_CHARS = 200


def mark_text_contents(document: Document) -> Document:
    """``document`` with its contents lists and indexes added to ``no_answer_spans``."""
    found = contents_spans(document)
    if not found:
        return document
    return replace(document, no_answer_spans=merged(document.no_answer_spans, found))


def contents_spans(document: Document) -> list[tuple[int, int]]:
    """The (start, end) of every contents list or index found in the text, in order."""
    text = document.text
    headings = document.headings
    # Each heading's words, mapped to the last place such a heading begins: an entry names a
    # heading that comes after it.
    heading_at = {key: section.start for section in headings if (key := entry_key(section.label))}
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    spans: list[tuple[int, int]] = []
    spans += runs(lines, [LEADER.search(text[s:e].rstrip()) is not None for s, e in lines], MIN_LEADER_LINES)
    spans += runs(lines, [names_later_heading(text[s:e], s, heading_at) for s, e in lines], MIN_HEADING_LINES)
    spans += index_runs(lines, [INDEX_ENTRY.fullmatch(text[s:e].strip()) is not None for s, e in lines])
    return merged((), spans)


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


def runs(lines: list[tuple[int, int]], hits: list[bool], least: int) -> list[tuple[int, int]]:
    """Spans of ``least`` or more lines in a row that are hits (blank lines between them do not
    break a run: ``lines`` holds only lines with text)."""
    spans, first = [], None
    for index, hit in enumerate([*hits, False]):
        if hit and first is None:
            first = index
        elif not hit and first is not None:
            if index - first >= least:
                spans.append((lines[first][0], lines[index - 1][1]))
            first = None
    return spans


def index_runs(lines: list[tuple[int, int]], entries: list[bool]) -> list[tuple[int, int]]:
    """An index: ``MIN_INDEX_LINES`` entries or more, with at least ``INDEX_SHARE`` of the lines from
    the first entry to the last being entries (a letter's heading or a wrapped entry between them)."""
    spans = []
    positions = [i for i, entry in enumerate(entries) if entry]
    group: list[int] = []
    for position in positions:
        if group and (len(group) + 1) < INDEX_SHARE * (position - group[0] + 1):
            spans += _index_span(lines, group)
            group = []
        group.append(position)
    spans += _index_span(lines, group)
    return spans


def _index_span(lines: list[tuple[int, int]], group: list[int]) -> list[tuple[int, int]]:
    if len(group) < MIN_INDEX_LINES:
        return []
    return [(lines[group[0]][0], lines[group[-1]][1])]


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
