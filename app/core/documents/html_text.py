"""HTML to the text a reader sees: blocks become line breaks, whitespace collapses, headings become sections."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

from ..stopping import StopCheck, check_stop
from .document import LINE_BREAK, PARAGRAPH_BREAK, Document, TextBuilder
from .load_options import NO_OPTIONS, LoadOptions
from .plain_text import decode_text

HIDDEN = frozenset({"head", "title", "script", "style", "template", "noscript"})
HEAD_CONTENT = frozenset({"title", "script", "style", "template", "noscript", "meta", "link", "base"})
BLOCK_GAPS = {
    **dict.fromkeys(
        ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr", "figure"),
        PARAGRAPH_BREAK,
    ),
    **dict.fromkeys(
        ("section", "article", "header", "footer", "main", "nav", "aside", "address", "details", "form", "fieldset"),
        PARAGRAPH_BREAK,
    ),
    **dict.fromkeys(("br", "div", "li", "dt", "dd", "tr", "caption", "figcaption", "summary", "center"), LINE_BREAK),
}
SECTION_HEADINGS = frozenset({"h1", "h2", "h3"})
# Permalink anchors beside headings ("Copyright¶"): Sphinx and MkDocs, Docusaurus, Jupyter. Not text a
# reader reads, and they would end every section name in the answers' locations.
PERMALINKS = frozenset({"headerlink", "hash-link", "anchor-link"})
TABLE_CELLS = frozenset({"td", "th"})
# Tags that never have an end tag, so they must not open a hidden region.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
HTML_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")
CELL_SEPARATOR = "\t"
FEED_CHARS = 1 << 17  # markup parsed between two stop checks: tens of milliseconds


def load_html(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    return html_to_document(decode_text(data, name, options.should_stop), name, options.should_stop)


def html_to_document(markup: str, name: str, should_stop: StopCheck | None = None) -> Document:
    """The visible text of ``markup``, with a section for each h1 to h3 heading.

    Fed to the parser a piece at a time, with a stop check before each. A construct still open at
    the end of a piece (a comment, a script, a tag) is kept by the parser and searched again with the
    next, so each piece is at least as long as what it keeps: linear, however long the construct.
    """
    parser = _VisibleText()
    position = 0
    while position < len(markup):
        check_stop(should_stop)
        size = max(FEED_CHARS, len(parser.rawdata))
        parser.feed(markup[position : position + size])
        position += size
    parser.close()
    return parser.builder.document(name, "html")


class _VisibleText(HTMLParser):
    """Collects the text of one block at a time and hands finished blocks to a ``TextBuilder``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = TextBuilder()
        self._block: list[str] = []
        self._block_has_text = False
        self._gap = ""
        # Hidden elements still open, and how many of each: nesting is unbounded in hostile markup,
        # so an end tag must not search the stack.
        self._hidden: list[str] = []
        self._hidden_count: Counter[str] = Counter()
        self._in_pre = False
        self._heading = ""
        # The text since the last markup: the parser hands it over in pieces when the markup is fed
        # in pieces, and it is taken whole, as when it is fed at once.
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._take_text()
        if tag == "body" or (self._hidden == ["head"] and tag not in HEAD_CONTENT):
            # As in a browser, the body, or anything that cannot be in the head, ends a head left open.
            self._hidden.clear()
            self._hidden_count.clear()
        if self._hidden or tag in HIDDEN or (tag == "a" and _is_permalink(attrs)):
            if tag not in VOID:
                self._hidden.append(tag)
                self._hidden_count[tag] += 1
            return
        if tag in TABLE_CELLS and self._block_has_text:
            self._block.append(CELL_SEPARATOR)
        self._boundary(tag)
        if tag in SECTION_HEADINGS:
            self._heading = tag
        elif tag == "pre":
            self._in_pre = True

    def handle_endtag(self, tag: str) -> None:
        self._take_text()
        if self._hidden:
            if self._hidden_count[tag]:
                # Also closes hidden tags left open inside it, as a browser would.
                while (closed := self._hidden.pop()) != tag:
                    self._hidden_count[closed] -= 1
                self._hidden_count[tag] -= 1
            return
        if tag == self._heading:
            self._flush(section=True)
            self._heading = ""
        self._boundary(tag)
        if tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_comment(self, data: str) -> None:
        self._take_text()

    handle_decl = handle_pi = unknown_decl = handle_comment

    def _take_text(self) -> None:
        data = "".join(self._text)
        self._text.clear()
        if data and not self._hidden:
            self._block.append(data if self._in_pre else HTML_SPACE.sub(" ", data))
            self._block_has_text = self._block_has_text or not data.isspace()

    def close(self) -> None:
        super().close()
        self._take_text()
        self._flush()

    def _boundary(self, tag: str) -> None:
        gap = BLOCK_GAPS.get(tag)
        if gap is None:
            return
        if self._heading:
            # A line break inside a heading keeps the heading one block, so it is one section label.
            self._block.append(" ")
            return
        self._flush()
        self._gap = max(self._gap, gap, key=len)

    def _flush(self, section: bool = False) -> None:
        raw = "".join(self._block)
        self._block.clear()
        self._block_has_text = False
        if self._in_pre:
            # As in a browser, the line break right after <pre> is not part of the text.
            text = raw.removeprefix("\n").rstrip()
        else:
            text = re.sub(" ?\t ?", CELL_SEPARATOR, re.sub("  +", " ", raw)).strip(" \t")
        if text:
            self.builder.add(text, self._gap, section=text if section else None, code=self._in_pre)
            self._gap = ""


def _is_permalink(attrs: list[tuple[str, str | None]]) -> bool:
    return any(name == "class" and value and not PERMALINKS.isdisjoint(value.split()) for name, value in attrs)
