"""A faithful text behind the page: a small manual written with fpdf2 (a title page, contents, page
labels in roman then arabic numerals, running headers and page numbers, headings, a table, two
columns and a footnote mark) read as a reader reads it, with the bundled model asked about it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from reading_assistant.core.documents import load_document
from reading_assistant.core.engine import open_engine
from reading_assistant.core.paths import bundled_model_dir

BODY = "Helvetica"
TITLE = "The Harbour Handbook"
CHAPTERS = ("1 Tides and moorings", "2 The harbour fees", "3 Storms and records")
MOORINGS = (
    "Boats are moored at the north quay when the tide is low, because the south quay dries out twice a "
    "day. The harbour master posts the times of high water on the door of the office every Monday."
)
FEES = (("Boat", "Per night", "Per week"), ("Dinghy", "4 pounds", "20 pounds"), ("Yacht", "15 pounds", "80 pounds"))
LEFT = (
    "The great storm of the old town came in the winter of 1824. It broke the north quay and sank forty "
    "boats in one night, and the harbour stayed closed until the spring."
)
RIGHT = (
    "Records of every boat are kept in the green book at the office. Old books are sent to the town "
    "library at the end of each year, where anyone may read them."
)


class Manual(FPDF):
    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(BODY, "I", 9)
            self.cell(0, 6, TITLE, align="R")
            self.ln(12)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(BODY, size=9)
        self.cell(0, 8, self.get_page_label(), align="C")

    def chapter(self, title: str, **label: object) -> None:
        self.add_page(**label)
        self.start_section(title.split(" ", 1)[1])
        self.set_font(BODY, "B", 16)
        self.cell(0, 10, title)
        self.ln(14)
        self.set_font(BODY, size=11)


def write_manual(path: Path) -> Path:
    pdf = Manual(format="A4")
    pdf.set_margins(20, 20)
    pdf.add_page(label_style="r")
    pdf.set_font(BODY, "B", 20)
    pdf.cell(0, 20, TITLE, align="C")
    pdf.ln(30)
    pdf.set_font(BODY, size=11)
    pdf.multi_cell(0, 6, "A guide for the keepers of small harbours, their boats and their tides.")
    pdf.add_page()
    pdf.set_font(BODY, "B", 16)
    pdf.cell(0, 10, "Contents")
    pdf.ln(14)
    pdf.set_font(BODY, size=11)
    for page, title in enumerate(CHAPTERS, 1):
        pdf.cell(150, 7, title + " " + ". " * 40, new_x="RIGHT", new_y="TOP")
        pdf.cell(0, 7, str(page), align="R")
        pdf.ln(7)
    pdf.chapter(CHAPTERS[0], label_style="D", label_start=1)
    pdf.multi_cell(0, 6, MOORINGS)
    pdf.chapter(CHAPTERS[1])
    pdf.multi_cell(0, 6, "The fees are paid at the office before a boat leaves the harbour.")
    pdf.ln(4)
    with pdf.table(col_widths=(60, 40, 40), text_align="LEFT", first_row_as_headings=False) as table:
        for row in FEES:
            cells = table.row()
            for cell in row:
                cells.cell(cell)
    pdf.chapter(CHAPTERS[2])
    top = pdf.get_y()
    pdf.multi_cell(80, 6, LEFT)
    pdf.set_xy(110, top)
    pdf.multi_cell(80, 6, RIGHT)
    pdf.ln(8)
    pdf.set_x(20)
    pdf.write(6, "The storm is remembered every winter")
    pdf.char_vpos = "SUP"
    pdf.write(6, "1")
    pdf.char_vpos = "LINE"
    pdf.write(6, " with a walk along the rebuilt quay.")
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def manual_path(tmp_path_factory) -> Path:
    return write_manual(tmp_path_factory.mktemp("manual") / "manual.pdf")


@pytest.fixture(scope="module")
def manual(manual_path):
    return load_document(manual_path)


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def test_the_title_stays_and_running_headers_and_page_numbers_go(manual):
    assert manual.text.startswith(f"{TITLE}\n\n")  # the title page's title, not a running header
    assert manual.text.count(TITLE) == 1
    # No line is a page number alone, in any numeral.
    assert not [line for line in manual.text.splitlines() if re.fullmatch(r"\s*(\d+|[ivx]+)\s*", line)]


def test_headings_are_paragraphs_and_sections_of_their_own(manual):
    for title in ("Contents", *CHAPTERS):
        assert title in paragraphs(manual.text)
    labels = [section.label for section in manual.sections]
    assert [label for label in labels if not label.startswith("page ")] == [TITLE, "Contents", *CHAPTERS]


def test_pages_are_labelled_as_printed(manual):
    assert manual.page_labels == ("i", "ii", "1", "2", "3")
    assert [label for label in (s.label for s in manual.sections) if label.startswith("page ")] == [
        "page i",
        "page ii",
        "page 1",
        "page 2",
        "page 3",
    ]
    # An answer at the very top of a page is on that page, not the one before.
    assert manual.location(manual.text.index(f"\n\n{CHAPTERS[1]}\n\n") + 2) == "page 2"
    assert manual.location(manual.text.index("Monday")) == "page 1"
    assert manual.location(manual.text.index("Contents")) == "page ii"


def test_a_table_is_rows_of_separated_cells(manual):
    rows = "\n".join(" | ".join(row) for row in FEES)
    assert rows in paragraphs(manual.text)


def test_two_columns_are_read_one_after_the_other_and_a_footnote_mark_stands_apart(manual):
    assert LEFT in paragraphs(manual.text) and RIGHT in paragraphs(manual.text)
    assert manual.text.index(LEFT) < manual.text.index(RIGHT)
    assert "The storm is remembered every winter 1 with a walk along the rebuilt quay." in paragraphs(manual.text)


def test_the_contents_are_kept_but_never_an_answer(manual):
    ((start, end),) = manual.no_answer_spans
    contents = manual.text[start:end]
    assert contents.splitlines()[0].startswith(CHAPTERS[0]) and contents.rstrip().endswith("3")
    engine = open_engine(bundled_model_dir(), device="cpu")
    # The contents hold these words with a page number beside them; the answer is in the text.
    for question in ("On which page are the harbour fees?", "How many boats did the storm sink?"):
        for answer in engine.ask(manual, question).answers:
            assert answer.end <= start or answer.start >= end, (question, answer)
    best = engine.ask(manual, "How many boats did the storm sink?").answers[0]
    assert best.text == "forty" and manual.location(best.start) == "page 3"


def test_ask_names_the_page_as_printed(manual_path):
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", str(manual_path), "When did the great storm come?"],
        capture_output=True,
        text=True,
        check=True,
    )
    first = result.stdout.splitlines()[0]
    assert "1824" in first and first.endswith("(page 3)"), result.stdout
