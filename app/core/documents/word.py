"""Word (.docx): paragraphs and tables in reading order; Heading and Title styles become sections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree import ElementTree

from ..errors import InputError
from ..stopping import checked
from .archive import Archive, local_name
from .document import Document, TextBuilder
from .load_options import NO_OPTIONS, LoadOptions

# Every Word-compatible writer puts the main part here; "[Content_Types].xml" is not worth following.
BODY_PART = "word/document.xml"
STYLES_PART = "word/styles.xml"
HEADING_STYLE_NAME = re.compile(r"heading \d|title", re.IGNORECASE)
BODY_TEXT_LEVEL = "9"  # the outline level Word gives ordinary paragraphs
# Run content that stands for a character; text inside w:delText (deleted revisions) is left out.
RUN_CHARACTERS = {"tab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"}
# Content controls, custom XML and tracked insertions wrap ordinary paragraphs and tables.
WRAPPERS = frozenset({"sdt", "sdtContent", "customXml", "ins"})


def load_docx(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    archive = Archive(data, name, "Word", options.should_stop)
    document = archive.xml(BODY_PART)
    # The transitional and the strict format name the same elements under different namespaces.
    w = document.tag[: -len(local_name(document))]
    body = document.find(f"{w}body")
    if body is None:
        raise InputError(f"{name} is not a valid Word file: it has no document body")
    headings = heading_styles(archive.xml(STYLES_PART)) if STYLES_PART in archive else set()
    builder = TextBuilder()
    for text, is_heading in checked(blocks(body, w, headings), options.should_stop):
        builder.add(text, section=text if is_heading else None)
    return builder.document(name, "docx")


def blocks(container: ElementTree.Element, w: str, headings: set[str]) -> Iterator[tuple[str, bool]]:
    """(text, is it a heading) for each paragraph and table in reading order; a table is one block."""
    for child in container:
        tag = local_name(child)
        if tag == "p":
            yield paragraph_text(child).strip(), is_heading(child, w, headings)
        elif tag == "tbl":
            rows = (row_text(row, w, headings) for row in child.findall(f"{w}tr"))
            yield "\n".join(row for row in rows if row.strip()), False
        elif tag in WRAPPERS:
            yield from blocks(child, w, headings)


def row_text(row: ElementTree.Element, w: str, headings: set[str]) -> str:
    """The row's cells separated by tabs; a cell's paragraphs (and nested tables) joined by spaces."""
    cells = (" ".join(text for text, _ in blocks(cell, w, headings) if text) for cell in row.findall(f"{w}tc"))
    return "\t".join(cells)


def paragraph_text(element: ElementTree.Element) -> str:
    parts = []
    for child in element:
        tag = local_name(child)
        if tag == "t":
            parts.append(child.text or "")
        elif tag in RUN_CHARACTERS:
            parts.append(RUN_CHARACTERS[tag])
        elif not tag.endswith("Pr") and tag != "Fallback":
            # Properties (w:pPr, w:rPr) hold tab stops, not tabs. mc:Fallback repeats the mc:Choice beside
            # it for older readers, so reading both would double the text.
            parts.append(paragraph_text(child))
    return "".join(parts)


def is_heading(paragraph: ElementTree.Element, w: str, headings: set[str]) -> bool:
    properties = paragraph.find(f"{w}pPr")
    if properties is None:
        return False
    style = properties.find(f"{w}pStyle")
    return has_outline_level(properties, w) or (style is not None and style.get(f"{w}val") in headings)


def has_outline_level(properties: ElementTree.Element, w: str) -> bool:
    level = properties.find(f"{w}outlineLvl")
    return level is not None and level.get(f"{w}val") != BODY_TEXT_LEVEL


def heading_styles(styles: ElementTree.Element) -> set[str]:
    """Ids of paragraph styles that are headings: by name, by outline level, or based on such a style."""
    w = styles.tag[: -len(local_name(styles))]
    parents: dict[str, str] = {}
    headings = set()
    for style in styles.iter(f"{w}style"):
        style_id = style.get(f"{w}styleId", "")
        name = style.find(f"{w}name")
        properties = style.find(f"{w}pPr")
        if (name is not None and HEADING_STYLE_NAME.fullmatch(name.get(f"{w}val", ""))) or (
            properties is not None and has_outline_level(properties, w)
        ):
            headings.add(style_id)
        based_on = style.find(f"{w}basedOn")
        if based_on is not None:
            parents[style_id] = based_on.get(f"{w}val", "")
    # Styles based on a heading style are headings too: walk the "based on" links down from the
    # headings once (linear in the styles, and it ends on the cycles of a damaged file).
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    waiting = list(headings)
    while waiting:
        for child in children.get(waiting.pop(), ()):
            if child not in headings:
                headings.add(child)
                waiting.append(child)
    return headings
