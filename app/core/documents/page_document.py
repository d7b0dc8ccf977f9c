"""A document from its pages' lines, whether a PDF's text layer gave them or OCR read them: columns in
reading order, tables as rows, running headers and page numbers left out, headings, paragraphs joined
across lines and pages, contents marked as never an answer, a section per page named by its printed
label, and the source map back to each page's characters."""

from __future__ import annotations

import numpy as np

from ..stopping import StopCheck, checked
from .document import PARAGRAPH_BREAK, Document, TextBuilder
from .pdf_columns import reading_order
from .pdf_contents import mark_contents
from .pdf_layout import Block, Line, continues_paragraph, drop_running_lines, mark_headings, page_blocks, usual_gap

PAGES_PER_CHECK = 16  # a page's lines are put in order and joined in a millisecond or so


def document_from_pages(
    pages: list[list[Line]],
    labels: list[str],
    name: str,
    format: str,
    boxes: dict[int, np.ndarray] | None = None,
    should_stop: StopCheck | None = None,
) -> Document:
    """``pages[i]`` are page ``i``'s lines in the order they were found, ``labels[i]`` its label as
    printed; ``boxes[i]``, for a page read by OCR, every character's box (its lines' ``chars`` index
    them), where a text layer's characters are pdfium's own. ``should_stop`` is asked between pages."""
    ordered = [mark_contents(reading_order(page)) for page in checked(pages, should_stop, PAGES_PER_CHECK)]
    pages = mark_headings(drop_running_lines(ordered, labels))
    usual = usual_gap(pages)
    builder = TextBuilder()
    previous: Block | None = None
    for index, page in enumerate(checked(pages, should_stop, PAGES_PER_CHECK)):
        for number, block in enumerate(page_blocks(page, usual)):
            # A sentence cut by a page break is one sentence again; the page's section still begins here.
            carries_on = (
                number == 0
                and previous is not None
                and previous.kind == block.kind == "text"
                and continues_paragraph(previous.text, block.text)
            )
            builder.add(
                block.text,
                " " if carries_on else PARAGRAPH_BREAK,
                section=f"page {labels[index]}" if number == 0 else None,
                source=(index, block.chars),
                no_answer=block.kind == "contents",
                heading=block.text if block.kind == "heading" else None,
            )
            previous = block
    for index, page_boxes in (boxes or {}).items():
        builder.add_page_boxes(index, page_boxes)
    return builder.document(name, format, page_labels=tuple(labels))
