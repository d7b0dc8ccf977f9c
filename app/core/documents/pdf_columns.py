"""A page's lines in reading order: table rows as rows of cells, then column by column.

Plain functions over ``Line``s with their boxes, so they are tested without PDFs. pdfium gives a
two-column page column by column or row by row, whatever its file says; the columns are found
again from where the lines stand: a gutter down the middle that few lines cross.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import groupby
from statistics import median

import numpy as np

from .pdf_layout import Line

CELL_SEPARATOR = " | "
MAX_CELL_CHARS = 30  # the cells of a table are short; the lines of two columns side by side are not
MIN_TABLE_ROWS = 2
MIN_COLUMN_LINES = 6  # fewer lines on a page are no evidence of columns
GUTTER_RANGE = (0.3, 0.7)  # where across the page's text a gutter between two columns may be
MAX_CROSSING = 0.3  # at most this share of the lines cross a gutter (a title, a wide figure's caption)
MIN_COLUMN_SHARE = 0.2  # each column holds at least this share of the lines
ALIGNED_STARTS = 0.5  # and the lines of the right column mostly begin at one x


def reading_order(lines: list[Line]) -> list[Line]:
    """The page's lines as they are read: a table's rows each one line, columns one after the other,
    and runs of one printed row that are neither (a wide gap in a line) one line again."""
    return rejoined_rows(column_order(table_rows(lines)))


def printed_rows(lines: list[Line]) -> list[list[Line]]:
    """Runs of lines cut from one line of pdfium's text, in order."""
    return [list(run) for _, run in groupby(lines, key=lambda line: (line.row, id(line) if line.row < 0 else 0))]


def table_rows(lines: list[Line]) -> list[Line]:
    """Consecutive printed rows of as many short cells, each cell within its column on every row,
    become one line each: the cells in order, separated by ``CELL_SEPARATOR``."""
    rows = printed_rows(lines)
    in_table = [False] * len(rows)
    start = 0
    while start < len(rows):
        end = start + 1
        while end < len(rows) and len(rows[start]) > 1 and aligned(rows[end - 1], rows[end]):
            end += 1
        cells = [len(cell.text) for row in rows[start:end] for cell in row]
        if end - start >= MIN_TABLE_ROWS and median(cells) <= MAX_CELL_CHARS:
            in_table[start:end] = [True] * (end - start)
        start = end
    found = []
    for row, is_table in zip(rows, in_table, strict=True):
        found.extend([joined(row, CELL_SEPARATOR, "table")] if is_table else row)
    return found


def aligned(above: list[Line], below: list[Line]) -> bool:
    """Whether two rows have as many cells, each between the neighbours of its column in the other."""
    if len(above) != len(below) or not all(cell.right > cell.left for cell in above + below):
        return False
    return within_columns(above, below) and within_columns(below, above)


def within_columns(row: list[Line], other: list[Line]) -> bool:
    for index, cell in enumerate(row):
        if index > 0 and cell.left <= other[index - 1].right:
            return False
        if index + 1 < len(row) and cell.right >= other[index + 1].left:
            return False
    return True


def joined(parts: list[Line], separator: str, kind: str) -> Line:
    """One line of ``parts`` side by side, with ``separator`` (from nowhere) between them."""
    if len(parts) == 1 and parts[0].kind == kind:
        return parts[0]
    gap = np.full(len(separator), -1, dtype=np.int64)
    chars = [parts[0].chars_or_nowhere()]
    for part in parts[1:]:
        chars.extend([gap, part.chars_or_nowhere()])
    return replace(
        parts[0],
        text=separator.join(part.text for part in parts),
        top=max(part.top for part in parts),
        bottom=min(part.bottom for part in parts),
        height=max(part.height for part in parts),
        chars=np.concatenate(chars),
        right=parts[-1].right,
        kind=kind,
    )


def column_order(lines: list[Line]) -> list[Line]:
    """Two columns read one after the other, each in the order given, between the lines that span
    the page (a title, a caption across both) in order from the top."""
    gutter = find_gutter(lines)
    if gutter is None:
        return lines
    spanning = sorted(
        (line for line in lines if not (line.right <= gutter or line.left >= gutter)), key=lambda line: -line.top
    )
    tops = [line.top for line in spanning]
    bands: list[tuple[list[Line], list[Line]]] = [([], []) for _ in range(len(spanning) + 1)]
    for line in lines:
        if line.right <= gutter or line.left >= gutter:
            band = sum(top > line.top for top in tops)  # the spanning lines above it
            bands[band][0 if line.right <= gutter else 1].append(line)
    ordered = [*bands[0][0], *bands[0][1]]
    for line, (left, right) in zip(spanning, bands[1:], strict=True):
        ordered.extend([line, *left, *right])
    return ordered


def find_gutter(lines: list[Line]) -> float | None:
    """The x of the gutter between two columns, or None for a page in one column."""
    placed = [line for line in lines if line.right > line.left]
    if len(placed) < MIN_COLUMN_LINES or len(placed) < len(lines) / 2:
        return None
    lefts = np.array([line.left for line in placed])
    rights = np.array([line.right for line in placed])
    low, high = lefts.min(), rights.max()
    xs = np.linspace(low + GUTTER_RANGE[0] * (high - low), low + GUTTER_RANGE[1] * (high - low), 41)
    crossing = ((lefts[:, None] < xs) & (rights[:, None] > xs)).sum(0)
    enough = max(3, MIN_COLUMN_SHARE * len(placed))
    possible = (
        ((rights[:, None] <= xs).sum(0) >= enough)
        & ((lefts[:, None] >= xs).sum(0) >= enough)
        & (crossing <= MAX_CROSSING * len(placed))
    )
    if not possible.any():
        return None
    # The fewest lines crossing; of those, the one nearest the middle.
    candidates = np.flatnonzero(possible & (crossing == crossing[possible].min()))
    gutter = float(xs[candidates[np.argmin(np.abs(candidates - len(xs) // 2))]])
    # A second column's lines begin at one x (a centred title or indented code do not).
    starts = lefts[lefts >= gutter]
    height = median(line.height for line in placed) or 1.0
    if np.mean(np.abs(starts - np.median(starts)) <= height / 2) < ALIGNED_STARTS:
        return None
    return gutter


def rejoined_rows(lines: list[Line]) -> list[Line]:
    """Runs of one printed row that stayed next to each other (no table, same column) are one line."""
    return [joined(run, " ", "text") if len(run) > 1 else run[0] for run in printed_rows(lines)]
