"""Loading every supported format into text with a source map, from real files the tests write."""

from __future__ import annotations

import io
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from reading_assistant.core.documents import (
    Document,
    Section,
    decode_text,
    load_document,
    loading,
    read_stdin,
    supported_suffixes,
)
from reading_assistant.core.documents.pdf_layout import (
    Line,
    continues_paragraph,
    drop_running_lines,
    join_lines,
    paragraphs,
)
from reading_assistant.core.errors import InputError
from tests import documents_samples as samples


def in_order(text: str, *phrases: str) -> bool:
    positions = [text.find(phrase) for phrase in phrases]
    return -1 not in positions and positions == sorted(positions)


# -- the source map ------------------------------------------------------------------------------


def test_location_gives_the_section_holding_an_offset():
    document = Document(
        text="intro chapter one chapter two", name="t", format="text", sections=(Section(6, "one"), Section(18, "two"))
    )
    assert [document.location(offset) for offset in (0, 5, 6, 17, 18, 28)] == [None, None, "one", "one", "two", "two"]


def test_a_document_needs_no_sections_and_then_has_no_locations():
    document = Document(text="pasted", name="Pasted text", format="text")
    assert document.sections == ()
    assert document.location(3) is None


def test_sections_out_of_order_are_refused():
    with pytest.raises(ValueError, match="sorted"):
        Document(text="ab", name="t", format="text", sections=(Section(1, "b"), Section(0, "a")))


def test_every_format_is_listed_for_the_open_dialog():
    expected = {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx", ".epub"}
    expected |= {".png", ".jpg", ".jpeg", ".tif", ".tiff"}  # read by OCR
    assert set(supported_suffixes()) == expected


# -- plain text ------------------------------------------------------------------------------------

TEXT = "Café Curie — the physicist 📚 won the Nobel Prize in 1903.\nShe was born in Warsaw.\n"


def test_utf8_text_is_the_file_text_exactly(tmp_path):
    path = tmp_path / "curie.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    document = load_document(path)
    assert document.text == TEXT
    assert (document.name, document.format, document.sections) == ("curie.txt", "text", ())
    start = document.text.index("Warsaw")
    assert path.read_bytes().decode("utf-8")[start : start + 6] == "Warsaw"


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8 with BOM"),
        (TEXT.encode("utf-16"), "utf-16 with BOM"),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16 big-endian"),
    ],
)
def test_unicode_with_a_byte_order_mark(tmp_path, encoded, label):
    path = tmp_path / "curie.txt"
    path.write_bytes(encoded)
    assert load_document(path).text == TEXT, label


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("The café sells crème brûlée for €4 — “the best in town”, says the owner.\n" * 3, "cp1252"),
        ("Le cœur a ses raisons que la raison ne connaît point.\n", "cp1252"),
        ("caf\xe9 " * 3, "latin-1"),
        ("Привет, мир! Это простой текст на русском языке, записанный в кодировке Windows.\n" * 2, "cp1251"),
        ("Zażółć gęślą jaźń. Łódź jest dużym miastem w środkowej Polsce, słynącym z przemysłu.\n" * 2, "cp1250"),
    ],
)
def test_legacy_encodings_are_detected(tmp_path, text, encoding):
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode(encoding))
    assert load_document(path).text == text


def test_windows_line_endings_become_newlines(tmp_path):
    path = tmp_path / "notes"
    path.write_bytes(b"first line\r\nsecond line\r\nold mac\rend")
    assert load_document(path).text == "first line\nsecond line\nold mac\nend"


def test_standard_input_is_decoded_like_a_file(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("naïve\r\ntext".encode("utf-16"))))
    document = read_stdin()
    assert (document.text, document.name) == ("naïve\ntext", "standard input")


def test_decode_text_refuses_binary_data():
    with pytest.raises(InputError, match=r"blob\.bin looks like a binary file"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "blob.bin")


LICENCE_TEXT = """Apache License
Version 2.0, January 2004

TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

1. Definitions.

"License" shall mean the terms and conditions for use, reproduction, and distribution.

Installation
============
Run the installer and wait for it to finish before you restart the machine.

Thanks!

Best regards

Jo Smith
"""


def test_plain_text_headings_become_sections(tmp_path):
    path = tmp_path / "LICENSE"
    path.write_text(LICENCE_TEXT, encoding="utf-8")
    document = load_document(path)
    assert document.text == LICENCE_TEXT
    labels = [section.label for section in document.sections]
    # A title block without a blank line after it, a numbered line ending with a full stop, a line
    # ending with "!" and a short line followed by no longer block (a letter's closing) are not headings.
    assert labels == ["TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION", "Installation"]
    assert [section.start for section in document.sections] == [
        LICENCE_TEXT.index("TERMS"),
        LICENCE_TEXT.index("Installation"),
    ]
    assert document.headings == document.sections


def test_pasted_text_gets_its_headings_too():
    document = loading.text_document("Chapter One\n\nIt was a dark and stormy night, and the rain fell.", "Pasted text")
    assert [(s.start, s.label) for s in document.sections] == [(0, "Chapter One")]


def test_page_sections_are_not_headings():
    sections = (Section(0, "page 1"), Section(5, "Gulls"), Section(9, "page ii"))
    document = Document(text="a" * 20, name="p.pdf", format="pdf", sections=sections)
    assert document.headings == (Section(5, "Gulls"),)
    assert document.has_headings(1) and not document.has_headings(2)


def test_markdown_keeps_its_text_and_gets_sections_from_atx_headings(tmp_path):
    text = (
        "Preface before any heading.\n\n"
        "# Getting Started\n\nInstall the tool first.\n\n"
        "```sh\n# not a heading, a shell comment\nmake install\n```\n\n"
        "## Configuration ##\n\nSet the colour option to blue.\n"
        "#hashtag is not a heading either\n"
    )
    path = tmp_path / "guide.md"
    path.write_text(text, encoding="utf-8", newline="\n")
    document = load_document(path)
    assert document.text == text
    assert document.format == "markdown"
    assert [section.label for section in document.sections] == ["Getting Started", "Configuration"]
    assert document.location(text.index("Preface")) is None
    assert document.location(text.index("make install")) == "Getting Started"
    assert document.location(text.index("colour option")) == "Configuration"
    assert document.sections[0].start == text.index("# Getting Started")


# -- HTML ------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title>Tab title</title><style>body { color: red }</style>
<script>var hidden = "never shown";</script></head>
<body>
  <h1>Tide   Tables</h1>
  <p>High water at <b>Dover</b> is at 10:42&nbsp;today &amp; tomorrow
     at 11:15.</p>
  <ul><li>Spring tides</li><li>Neap tides</li></ul>
  <h2>Harbour <br>entry</h2>
  <table><tr><th>Berth</th><th>Depth</th></tr><tr><td>North</td><td>4.5 m</td></tr></table>
  <h4>A minor heading</h4>
  <pre>
  keep   this
    layout</pre>
  <p>Caf&eacute; &#8220;Anchor&#8221;<br>opens at noon.</p>
  <script>document.write("also hidden")</script>
</body></html>"""

PAGE_TEXT = (
    "Tide Tables\n\n"
    "High water at Dover is at 10:42 today & tomorrow at 11:15.\n\n"
    "Spring tides\nNeap tides\n\n"
    "Harbour entry\n\n"
    "Berth\tDepth\nNorth\t4.5 m\n\n"
    "A minor heading\n\n"
    "  keep   this\n    layout\n\n"
    "Café “Anchor”\nopens at noon."
)


def test_html_gives_the_visible_text_with_blocks_as_line_breaks(tmp_path):
    path = tmp_path / "tides.html"
    path.write_text(PAGE, encoding="utf-8")
    document = load_document(path)
    assert document.text == PAGE_TEXT
    assert document.format == "html"


def test_html_sections_come_from_h1_to_h3(tmp_path):
    path = tmp_path / "tides.htm"
    path.write_text(PAGE, encoding="utf-8")
    document = load_document(path)
    assert document.sections == (Section(0, "Tide Tables"), Section(PAGE_TEXT.index("Harbour entry"), "Harbour entry"))
    assert document.location(document.text.index("Dover")) == "Tide Tables"
    assert document.location(document.text.index("opens at noon")) == "Harbour entry"


def test_html_heading_permalinks_are_not_text(tmp_path):
    """Sphinx, MkDocs and Docusaurus put a link sign after each heading; it once ended every section
    name ("1. Copyright¶"). Other links stay text."""
    path = tmp_path / "policy.html"
    path.write_text(
        '<h2>1. Copyright<a class="headerlink" href="#copyright" title="Link">¶</a></h2>'
        '<p>Free software, see <a href="gpl.html">the GPL</a>.</p>'
        '<h2>2. Wheels<a class="hash-link" href="#wheels">#</a></h2><p>Wheels go in /usr/share.</p>',
        encoding="utf-8",
    )
    document = load_document(path)
    assert [section.label for section in document.sections] == ["1. Copyright", "2. Wheels"]
    assert document.text == "1. Copyright\n\nFree software, see the GPL.\n\n2. Wheels\n\nWheels go in /usr/share."


def test_html_with_an_unclosed_head_still_shows_its_body(tmp_path):
    path = tmp_path / "sloppy.html"
    path.write_text("<head><title>Hidden title</title><meta charset=utf-8><p>Visible text</p>", encoding="utf-8")
    assert load_document(path).text == "Visible text"


def test_html_without_visible_text_has_no_text(tmp_path):
    path = tmp_path / "blank.html"
    path.write_text("<html><head><title>Only a title</title></head><body><script>x()</script></body></html>")
    with pytest.raises(InputError, match=r"^blank\.html has no text$"):
        load_document(path)


# -- PDF -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory) -> Path:
    return samples.write_report_pdf(tmp_path_factory.mktemp("pdf") / "report.pdf")


@pytest.fixture(scope="module")
def report(report_pdf) -> Document:
    return load_document(report_pdf)


def test_pdf_text_is_in_page_order_with_paragraphs_kept(report):
    assert report.format == "pdf"
    assert in_order(report.text, "founded in 1852", "Trade grew", "Records kept", "A storm in 1953", "Today the")
    # Lines of one paragraph are joined with spaces; paragraphs are kept apart.
    assert "stone pier out of rubble carried down" in report.text
    first_page = samples.PDF_PAGES[0]
    assert report.text.startswith(f"{first_page[0]}\n\n{first_page[1]}\n\n")


def test_pdf_hyphenation_at_a_line_end_is_undone(report):
    assert "detailed information about every ship" in report.text
    assert "infor" not in report.text.replace("information", "")


def test_pdf_running_headers_and_page_footers_are_removed(report):
    assert samples.REPORT_HEADER not in report.text
    assert "Page " not in report.text
    assert " of 4" not in report.text


def test_pdf_columns_follow_the_order_pdfium_gives(report):
    assert in_order(report.text, samples.LEFT_COLUMN, samples.RIGHT_COLUMN)


def test_pdf_offsets_map_to_pages(report):
    assert [section.label for section in report.sections] == ["page 1", "page 2", "page 3", "page 4"]
    assert report.location(report.text.index("founded in 1852")) == "page 1"
    assert report.location(report.text.index("busiest year on record")) == "page 2"
    assert report.location(report.text.index("eastern breakwater")) == "page 3"
    assert report.location(report.text.index("lifeboat crews")) == "page 4"


def test_pdf_text_maps_back_to_the_characters_of_its_pages(report, report_pdf):
    """Every run of the text is the same text at its page's characters; what the loader added (the
    spaces joining lines, the breaks between paragraphs) and what it left out (headers, footers, a
    hyphen undone) are the only differences."""
    source = report.source_map
    pdf = pdfium.PdfDocument(report_pdf)
    try:
        pages = [pdf[n].get_textpage() for n in range(len(pdf))]
        columns = (source.starts, source.lengths, source.pages, source.chars)
        runs = list(zip(*(column.tolist() for column in columns), strict=True))
        for start, length, page, first in runs:
            assert pages[page].get_text_range(first, length) == report.text[start : start + length]
        assert uncovered(report.text, runs).isspace()  # only the breaks and spaces the loader added
        # An answer's span, and where it is: "information" was "infor-" and "mation" on two lines.
        start = report.text.index("detailed information about")
        spans = source.page_spans(start, start + len("detailed information"))
        assert report.location(start) == "page 2" and [span.page for span in spans] == [1, 1]
        assert "".join(pages[s.page].get_text_range(s.first, s.count) for s in spans) == "detailed infor" + "mation"
        for label, phrase in (("page 2", "busiest year on record"), ("page 4", "lifeboat crews")):
            offset = report.text.index(phrase)
            assert source.page_of(offset) == int(label.split()[1]) - 1 and report.location(offset) == label
        assert source.page_of(report.text.index("\n\n")) is None  # a paragraph break came from no page
    finally:
        pdf.close()
    assert load_document(samples.write_docx(report_pdf.parent / "plain.docx")).source_map is None


def uncovered(text: str, runs: list[tuple[int, int, int, int]]) -> str:
    """The characters of ``text`` in no run: those the loader added."""
    covered = bytearray(len(text))
    for start, length, _, _ in runs:
        covered[start : start + length] = b"\x01" * length
    return "".join(c for c, seen in zip(text, covered, strict=True) if not seen)


def test_a_scanned_pdf_needs_ocr(tmp_path):
    with pytest.raises(InputError, match=r"scan\.pdf has no text layer.*OCR"):
        load_document(samples.write_scanned_pdf(tmp_path / "scan.pdf"))


def test_a_password_protected_pdf_says_so(tmp_path):
    with pytest.raises(InputError, match=r"locked\.pdf is password-protected"):
        load_document(samples.write_encrypted_pdf(tmp_path / "locked.pdf"))


def line(text: str, top: float, height: float = 10.0) -> Line:
    return Line(text, top=top, bottom=top - height, height=height)


def test_running_lines_ignore_digits_but_not_words():
    bodies = ["Whales sing.", "Seals bask on rocks.", "Terns dive for fish.", "Crabs hide in weed."]
    pages = [
        [line(f"Annual Report {2020 + n}", 800), line(body, 700), line(f"- {n} -", 40)]
        for n, body in enumerate(bodies, 1)
    ]
    pages[2].insert(1, line("Annual Report summary", 760))
    kept = drop_running_lines(pages)
    assert [[kept_line.text for kept_line in page] for page in kept] == [
        ["Whales sing."],
        ["Seals bask on rocks."],
        ["Annual Report summary", "Terns dive for fish."],
        ["Crabs hide in weed."],
    ]


def test_running_lines_need_several_pages_of_evidence():
    pages = [[line("Introduction", 800), line("Some text", 780)], [line("Introduction", 800), line("More", 780)]]
    assert drop_running_lines(pages) == pages


def test_paragraph_breaks_come_from_larger_gaps_and_column_jumps():
    page = [line("one", 700), line("two", 687), line("three", 650), line("four", 637), line("five", 700)]
    assert paragraphs(page, usual=3.0) == ["one two", "three four", "five"]


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        (["detailed infor-", "mation here"], "detailed information here"),
        (["the north-", "West wind"], "the north- West wind"),
        (["page 12-", "14 of the book"], "page 12- 14 of the book"),
        (["ends a sentence.", "Next one"], "ends a sentence. Next one"),
    ],
)
def test_join_lines_undoes_hyphenation_only_inside_a_word(lines, joined):
    assert join_lines(lines) == joined


@pytest.mark.parametrize(
    ("previous", "following", "continues"),
    [
        ("information found in a", "directory is added", True),
        ("the end of a sentence.", "next page starts", False),
        ("a heading without a stop", "Capitalised start", False),
        ("he said “stop”", "and left", False),
    ],
)
def test_a_paragraph_continues_over_a_page_break_only_mid_sentence(previous, following, continues):
    assert continues_paragraph(previous, following) is continues


# -- Word ------------------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_heading_sections(tmp_path):
    document = load_document(samples.write_docx(tmp_path / "birds.docx"))
    assert document.format == "docx"
    assert in_order(
        document.text, "Field Guide", "rocky shores", "Gulls", "herring gull", "Species\tLength", "oystercatcher"
    )
    assert "Great black-backed gull\t71 cm" in document.text
    assert [section.label for section in document.sections] == ["Field Guide to Coastal Birds", "Gulls", "Waders"]
    assert document.location(document.text.index("71 cm")) == "Gulls"
    assert document.location(document.text.index("orange bill")) == "Waders"


# -- EPUB ------------------------------------------------------------------------------------------


def test_epub_chapters_in_spine_order_named_by_the_table_of_contents(tmp_path):
    document = load_document(samples.write_epub(tmp_path / "voyages.epub"))
    assert document.format == "epub"
    assert in_order(document.text, "Leaving Port", "left Bristol at dawn", "forty days", "salted cod")
    assert "no land & ate" in document.text
    assert "p { margin" not in document.text and "One" not in document.text
    assert [section.label for section in document.sections] == ["Chapter 1: Leaving Port", "Chapter 2: The Sea"]
    assert document.location(document.text.index("Bristol")) == "Chapter 1: Leaving Port"
    assert document.location(document.text.index("salted cod")) == "Chapter 2: The Sea"


def test_epub_2_chapters_are_named_by_the_ncx(tmp_path):
    document = load_document(samples.write_epub(tmp_path / "voyages.epub", toc="ncx"))
    assert [section.label for section in document.sections] == ["I. Leaving Port", "II. The Sea"]


def test_epub_without_a_table_of_contents_uses_headings_then_file_names(tmp_path):
    document = load_document(samples.write_epub(tmp_path / "voyages.epub", toc="none"))
    assert [section.label for section in document.sections] == ["Leaving Port", "chapter 2"]


def test_epub_with_only_obfuscated_fonts_is_readable(tmp_path):
    document = load_document(samples.write_epub(tmp_path / "fonts.epub", samples.FONT_ENCRYPTION_XML))
    assert "left Bristol at dawn" in document.text


def test_epub_with_drm_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"drm\.epub is protected by DRM"):
        load_document(samples.write_epub(tmp_path / "drm.epub", samples.DRM_ENCRYPTION_XML))


# -- every failure is one plain InputError naming the file -----------------------------------------


def zip_with(path, members: dict[str, str]):
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: write(d / "sheet.xlsx", b"PK\x03\x04"), r"sheet\.xlsx: unsupported file type \.xlsx"),
        (lambda d: write(d / "empty.txt", b" \n\t\n"), r"^empty\.txt has no text$"),
        (lambda d: write(d / "blob.txt", b"\x00\x01\x02binary"), r"blob\.txt looks like a binary file"),
        (lambda d: write(d / "odd.txt", b"\xff\xfeA"), r"odd\.txt is damaged: it is not valid UTF-16"),
        (lambda d: write(d / "fake.pdf", b"%PDF-1.4\nnot really a pdf"), r"fake\.pdf is not a valid PDF"),
        (lambda d: cut(samples.write_report_pdf(d / "cut.pdf")), r"cut\.pdf"),
        (lambda d: write(d / "fake.docx", b"plain text, not a zip"), r"fake\.docx is not a valid Word file"),
        (lambda d: zip_with(d / "hollow.docx", {"word/other.xml": "<a/>"}), r"hollow\.docx .*document\.xml is missing"),
        (lambda d: zip_with(d / "bad.docx", {"word/document.xml": "<w:document"}), r"bad\.docx is damaged.*XML"),
        (lambda d: write(d / "fake.epub", b"\x00" * 64), r"fake\.epub is not a valid EPUB file"),
        (lambda d: zip_with(d / "bare.epub", {"mimetype": "application/epub+zip"}), r"bare\.epub .*container\.xml"),
    ],
)
def test_bad_files_give_one_plain_input_error(tmp_path, make, message):
    with pytest.raises(InputError, match=message) as caught:
        load_document(make(tmp_path))
    assert "\n" not in str(caught.value)


def test_files_over_the_size_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_BYTES", 10)
    with pytest.raises(InputError, match=r"big\.txt is larger than"):
        load_document(write(tmp_path / "big.txt", b"x" * 11))


def test_an_unexpected_library_failure_still_becomes_an_input_error(tmp_path, monkeypatch):
    def explode(data: bytes, name: str, options) -> Document:
        raise KeyError("internal detail")

    monkeypatch.setitem(loading.FORMAT_OF, ".pdf", replace(loading.FORMAT_OF[".pdf"], loader=explode))
    with pytest.raises(InputError, match=r"^odd\.pdf cannot be read: the file may be damaged$"):
        load_document(write(tmp_path / "odd.pdf", b"%PDF"))


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def cut(path):
    """The first half of a real PDF, as an interrupted download leaves it."""
    data = path.read_bytes()
    return write(path, data[: len(data) // 2])
