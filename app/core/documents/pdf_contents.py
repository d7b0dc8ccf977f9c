"""A table of contents and an index: kept in the text, but never given as an answer.

"Introduction ........ 5" names where a section is, not what it says: an answer read from it
(the page number) is wrong for any question about the section. Plain functions over ``Line``s.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .pdf_layout import Line

# Dot leaders (". . . ." or "....", or a row of ellipses) then a page number, arabic or roman. A
# match begins only where a run of leaders does (tried from inside one, a long run costs its square),
# and takes the run possessively (no way back kept at each leader).
LEADER = re.compile(
    r"(?i)[.\u00b7\u2026](?<![.\u00b7\u2026][.\u00b7\u2026])(?<![.\u00b7\u2026]\s[.\u00b7\u2026])\s?(?:[.\u00b7\u2026]\s?){3,}+"
    r"\s*(?:\d{1,4}|[ivxlcdm]{1,8})$"
)
# "harbour, 12, 45-47": a term, then page numbers and ranges. Its last page number (or range) is
# enough to tell one: the term before it may hold anything, earlier page numbers included.
INDEX_ENTRY_END = re.compile(r",\s*\d{1,4}(?:\s*[-\u2013]\s*\d{1,4})?\Z")
MIN_INDEX_LINES = 5
INDEX_SHARE = 0.5  # a page is an index when at least this share of its lines are index entries


def mark_contents(page: list[Line]) -> list[Line]:
    """The page's contents entries marked ``kind="contents"``: lines with dot leaders and the lines
    between two of them (an entry's title that ran onto a second line); on a page mostly of index
    entries, every line."""
    leaders = [i for i, line in enumerate(page) if LEADER.search(line.text)]
    entries = sum(1 for line in page if is_index_entry(line.text))
    if entries >= MIN_INDEX_LINES and entries >= INDEX_SHARE * len(page):
        marked = set(range(len(page)))
    else:
        marked = set(range(leaders[0], leaders[-1] + 1)) if len(leaders) > 1 else set(leaders)
    return [
        replace(line, kind="contents") if i in marked and line.kind == "text" else line for i, line in enumerate(page)
    ]


def is_index_entry(line: str) -> bool:
    """Whether ``line`` is an index entry: a term that begins with no digit, then page numbers and
    ranges after commas ("harbour, 12, 45-47"). Linear: a pattern for the whole line backtracks over
    every comma of a long one, once for each."""
    end = INDEX_ENTRY_END.search(line)
    return end is not None and end.start() > 0 and not line[0].isdecimal()
