"""The page view on real PDFs written by fpdf2, drawn by pdfium, with real Qt events: pages on
screen, answers boxed over their characters, find, go to page, selection and copy, the Page / Text
switch, a page that cannot be drawn, and the memory budget for pictures of pages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PySide6.QtCore import QPointF, Qt, QThreadPool
from PySide6.QtGui import QGuiApplication

from reading_assistant.core.decoding import Answer
from reading_assistant.core.documents import load_document
from reading_assistant.core.documents.load_options import LoadOptions
from reading_assistant.core.documents.pages import MAX_RENDER_PIXELS, PdfPages
from reading_assistant.gui import page_view as page_view_module
from reading_assistant.gui.document_views import DocumentViews, page_box_text, page_from_entry
from reading_assistant.gui.page_geometry import PageChars, PageIndex, line_rects
from reading_assistant.gui.settings import Store

from .documents_samples import write_encrypted_pdf

SENTENCES = [
    "The lighthouse keeper lit the lamp every evening at dusk.",
    "Ships passing the northern reef relied on its beam.",
    "In winter the keeper rowed to the village for supplies.",
]

PLACES = [
    "Ardmore",
    "Bellhaven",
    "Carrick",
    "Dunmore",
    "Elgin",
    "Fintry",
    "Glenelg",
    "Hawick",
    "Inverary",
    "Jedburgh",
    "Kelso",
    "Lerwick",
    "Moffat",
    "Nairn",
    "Oban",
    "Peebles",
    "Quarff",
    "Rosslyn",
    "Stirling",
    "Thurso",
]


def write_book(path: Path, pages: int = 6, outline: bool = True) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for number in range(pages):
        pdf.add_page()
        if outline:
            pdf.start_section(f"Chapter {number + 1}")
        for line, sentence in enumerate(SENTENCES):
            # Each page says something of its own, or its lines would all look like running headers.
            place = PLACES[(number * len(SENTENCES) + line) % len(PLACES)]
            pdf.multi_cell(0, 8, f"{sentence} The log names {place}. This is page {number + 1}.")
            pdf.ln(4)
    pdf.output(str(path))
    return path


def answer_for(document, phrase: str, score: float = 0.8) -> Answer:
    start = document.text.index(phrase)
    return Answer(text=phrase, start=start, end=start + len(phrase), score=score, logit=3.0, document=document.id)


@pytest.fixture()
def views(qtbot, tmp_path):
    views = DocumentViews(QThreadPool(), shows_pages=True)
    qtbot.addWidget(views)
    views.resize(700, 800)
    views.show()
    yield views
    views.shutdown()


def open_pages(qtbot, views: DocumentViews, path: Path):
    document = load_document(path)
    views.show_document(document)
    qtbot.waitUntil(lambda: views.page_view.ready, timeout=10000)
    return document


def test_a_pdf_opens_as_its_pages_with_the_answer_boxed_over_its_characters(qtbot, views, tmp_path):
    document = open_pages(qtbot, views, write_book(tmp_path / "book.pdf"))
    view = views.page_view
    assert views.shows_pages and view.page_count == 6
    qtbot.waitUntil(lambda: 0 in view._images and view.page_chars(0) is not None, timeout=10000)
    assert not view._images[0][1].isNull()
    phrase = "rowed to the village"
    # The phrase on page 4 (index 3): its boxes are where pdfium says those characters are.
    start = document.text.index(phrase, document.text.index("This is page 4."))
    answer = Answer(text=phrase, start=start, end=start + len(phrase), score=0.9, logit=3.0, document=document.id)
    views.highlight([answer])
    views.select_answer(answer, True)
    qtbot.waitUntil(lambda: view.middle_page() in (2, 3) and view._pending_reveal is None, timeout=10000)
    span = document.source_map.page_spans(answer.start, answer.end)
    assert [s.page for s in span] == [3]
    chars = view.page_chars(3)
    assert chars.text[span[0].first : span[0].first + span[0].count] == phrase
    rects = chars.span_rects(span[0].first, span[0].count)
    assert len(rects) == 1
    x0, y0, x1, y1 = rects[0]
    assert 0 < x0 < x1 < 1 and 0 < y0 < y1 < 0.5  # on the upper half of the page, inside it
    # The box is on screen after the reveal.
    page = view.page_rect(3)
    assert 0 <= page.y() + y0 * page.height() <= view.viewport().height()


def test_find_counts_the_matches_and_steps_to_their_pages(qtbot, views, tmp_path):
    open_pages(qtbot, views, write_book(tmp_path / "book.pdf"))
    assert views.set_find("lighthouse keeper") == 6
    assert views.find_step(1) == 0
    for _ in range(4):
        views.find_step(1)
    qtbot.waitUntil(lambda: views.page_view.middle_page() >= 3, timeout=10000)
    starts, _ = views.page_view.finder.spans_on(4)
    assert len(starts) == 1


def test_the_page_box_shows_labels_and_goes_to_a_page(qtbot, views, tmp_path):
    open_pages(qtbot, views, write_book(tmp_path / "book.pdf"))
    assert page_box_text(["i", "ii", "1"], 2) == "1 (3 of 3)"
    assert page_box_text(["1", "2"], 1) == "2 of 2"
    assert page_from_entry("ii", ["i", "ii", "1"]) == 1 and page_from_entry("3", ["i", "ii", "1"]) == 2
    assert page_from_entry("9", ["1"]) is None
    views.page_box.setText("5")
    qtbot.keyClick(views.page_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: views.page_view.middle_page() == 4, timeout=5000)
    assert views.page_box.text() == "5 of 6"


def test_the_outline_lists_the_bookmarks_and_goes_to_one(qtbot, views, tmp_path):
    open_pages(qtbot, views, write_book(tmp_path / "book.pdf"))
    qtbot.waitUntil(views.outline_button.isVisible, timeout=5000)
    assert views.outline.topLevelItemCount() == 0  # filled when the reader opens it
    views.toggle_outline()
    assert views.outline.isVisible() and views.outline.topLevelItemCount() == 6
    item = views.outline.topLevelItem(5)
    assert item.text(0) == "Chapter 6"
    views._outline_chosen(item)
    qtbot.waitUntil(lambda: views.page_view.middle_page() == 5, timeout=5000)


def test_a_text_documents_outline_lists_its_headings_and_goes_to_one(qtbot, views, tmp_path):
    body = "Chapter {n} tells of the lighthouse keeper.\n\n" * 40
    chapters = "".join(f"# Chapter {n}\n\n" + body.format(n=n) for n in range(1, 6))
    path = tmp_path / "book.md"
    path.write_text(chapters)
    document = load_document(path)
    views.show_document(document)
    qtbot.waitUntil(lambda: views.text_view.ready, timeout=10000)
    assert views.bar.isVisible() and not views.page_button.isVisible()  # no pages: only the outline
    assert views.outline_button.isVisible()
    views.toggle_outline()
    assert views.outline.isVisible()
    titles = [views.outline.topLevelItem(i).text(0) for i in range(views.outline.topLevelItemCount())]
    assert titles == [f"Chapter {n}" for n in range(1, 6)]
    views._outline_chosen(views.outline.topLevelItem(3))
    top = views.text_view.top_offset()
    assert document.text[top:].startswith("# Chapter 4")
    plain = tmp_path / "plain.txt"
    plain.write_text("Just a note without any headings at all, one line.\n")
    views.show_document(load_document(plain))
    assert not views.bar.isVisible()


def test_text_is_selected_with_the_mouse_and_copied(qtbot, views, tmp_path):
    open_pages(qtbot, views, write_book(tmp_path / "book.pdf", pages=1))
    view = views.page_view
    qtbot.waitUntil(lambda: view.page_chars(0) is not None, timeout=10000)
    chars = view.page_chars(0)
    first = chars.text.index("lighthouse")
    rect = view.page_rect(0)

    def at(index: int) -> QPointF:
        x0, y0, x1, y1 = chars.boxes[index]
        return QPointF(rect.x() + (x0 + x1) / 2 * rect.width(), rect.y() + (y0 + y1) / 2 * rect.height())

    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=at(first).toPoint())
    qtbot.mouseMove(view.viewport(), pos=at(first + len("lighthouse") - 1).toPoint())
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=at(first + len("lighthouse") - 1).toPoint())
    assert views.selected_text() == "lighthouse"
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "lighthouse"


def test_the_switch_keeps_the_answer_and_the_readers_choice(qtbot, tmp_path):
    store = Store(tmp_path / "settings.ini")
    views = DocumentViews(QThreadPool(), shows_pages=store.shows_pages())
    views.mode_changed.connect(store.save_shows_pages)
    qtbot.addWidget(views)
    views.show()
    document = open_pages(qtbot, views, write_book(tmp_path / "book.pdf"))
    answer = answer_for(document, "northern reef")
    views.highlight([answer])
    views.select_answer(answer, True)
    views.text_button.click()
    assert not views.shows_pages and views.text_view.highlighted_ranges() == [(answer.start, answer.end)]
    assert Store(tmp_path / "settings.ini").shows_pages() is False
    views.page_button.click()
    assert views.shows_pages and Store(tmp_path / "settings.ini").shows_pages() is True
    # A format without pages shows its text, whatever the choice.
    text_file = tmp_path / "notes.txt"
    text_file.write_text("Plain notes about the reef.", encoding="utf-8")
    views.show_document(load_document(text_file))
    assert not views.shows_pages and not views.bar.isVisible()
    views.shutdown()


def test_a_page_that_cannot_be_drawn_says_so_and_the_others_still_show(qtbot, views, tmp_path, monkeypatch):
    real_render = PdfPages.render

    def render(self, index, scale):
        if index == 1:
            raise RuntimeError("broken content stream")
        return real_render(self, index, scale)

    monkeypatch.setattr(PdfPages, "render", render)
    open_pages(qtbot, views, write_book(tmp_path / "book.pdf"))
    view = views.page_view
    views.page_view.go_to_page(1)
    qtbot.waitUntil(lambda: 1 in view._failed and 0 in view._images and 2 in view._images, timeout=10000)
    assert "cannot be drawn" in view._failed[1]
    view.grab()  # drawing the failed page's message does not raise


def test_pictures_of_pages_stay_within_the_memory_budget(qtbot, views, tmp_path, monkeypatch):
    monkeypatch.setattr(page_view_module, "IMAGE_BUDGET_BYTES", 3 * 2**20)
    open_pages(qtbot, views, write_book(tmp_path / "long.pdf", pages=30, outline=False))
    view = views.page_view
    largest = 0
    for page in range(0, 30, 3):
        view.go_to_page(page)
        qtbot.waitUntil(lambda page=page: page in view._images, timeout=10000)
        largest = max(largest, max(image.sizeInBytes() for _, image in view._images.values()))
    visible = len(view.visible_pages(page_view_module.NEAR_PAGES))
    assert view._image_bytes <= max(3 * 2**20, visible * largest) + largest


def test_an_encrypted_pdf_shows_its_pages_with_the_password_it_opened_with(qtbot, views, tmp_path):
    path = write_encrypted_pdf(tmp_path / "secret.pdf")
    document = load_document(path, LoadOptions(password="reader-secret"))
    views.page_view.password_for = lambda origin: "reader-secret" if origin == str(path) else None
    views.show_document(document)
    qtbot.waitUntil(lambda: views.page_view.ready, timeout=10000)
    assert views.shows_pages and views.page_view.page_count == 1
    # Without it the pages cannot be shown: the text is, with a note saying why.
    views.page_view.password_for = lambda origin: None
    views.show_document(document)
    qtbot.waitUntil(lambda: not views.shows_pages, timeout=10000)
    assert "password" in views.note.text()


def test_boxes_merge_into_one_rectangle_per_line():
    boxes = np.array([[0.1, 0.1, 0.12, 0.12], [0.12, 0.1, 0.14, 0.12], [np.nan] * 4, [0.1, 0.2, 0.13, 0.22]])
    assert line_rects(boxes) == [(0.1, 0.1, 0.14, 0.12), (0.1, 0.2, 0.13, 0.22)]
    # Down a page turned a quarter, a line's characters stand one under the other.
    turned = np.array([[0.5, 0.1, 0.52, 0.12], [0.5, 0.12, 0.52, 0.14], [0.5, 0.141, 0.52, 0.16]])
    assert line_rects(turned) == [(0.5, 0.1, 0.52, 0.16)]
    # A line scanned at a slant steps down in rectangles that keep to its height.
    leaning = np.array([[0.1 + 0.02 * n, 0.1 + 0.004 * n, 0.12 + 0.02 * n, 0.12 + 0.004 * n] for n in range(20)])
    stepped = line_rects(leaning)
    assert 1 < len(stepped) < 20 and all(y1 - y0 <= 1.5 * 0.02 + 1e-9 for _, y0, _, y1 in stepped)
    assert stepped[0][:2] == (0.1, 0.1) and stepped[-1][2:] == pytest.approx((0.5, 0.196))
    # Down a page turned a quarter and scanned at a slant, the same.
    stepped_down = line_rects(leaning[:, [1, 0, 3, 2]])
    assert 1 < len(stepped_down) < 20 and all(x1 - x0 <= 1.5 * 0.02 + 1e-9 for x0, _, x1, _ in stepped_down)
    # Two lines across, the second starting under the first's start, stay two.
    wrapped = np.array([[0.1, 0.1, 0.12, 0.12], [0.12, 0.1, 0.14, 0.12], [0.1, 0.125, 0.12, 0.145]])
    assert len(line_rects(wrapped)) == 2
    chars = PageChars(
        "ab\ncd",
        np.array(
            [
                [0.1, 0.1, 0.12, 0.12],
                [0.12, 0.1, 0.14, 0.12],
                [np.nan] * 4,
                [0.1, 0.2, 0.12, 0.22],
                [0.12, 0.2, 0.14, 0.22],
            ]
        ),
    )
    assert chars.char_at(0.13, 0.11) == 1
    assert chars.char_at(0.5, 0.21) == 4  # beyond the line's end: its last character
    assert PageChars("", np.zeros((0, 4))).char_at(0.5, 0.5) is None


def test_the_page_index_places_offsets_on_their_pages(tmp_path):
    document = load_document(write_book(tmp_path / "book.pdf", pages=3))
    index = PageIndex(document.source_map, 3, len(document.text))
    offsets = np.array([document.text.index(f"This is page {n}.") for n in (1, 2, 3)])
    pages, down = index.positions_of(offsets)
    assert pages.tolist() == [0, 1, 2] and np.all((down >= 0) & (down <= 1))
    assert index.pages_of(np.array([0, len(document.text) - 1])).tolist() == [0, 2]


@pytest.fixture()
def window(qtbot, tmp_path):
    from reading_assistant.core.paths import bundled_model_dir
    from reading_assistant.gui.main_window import MainWindow
    from reading_assistant.gui.settings import EngineSettings

    store = Store(tmp_path / "settings.ini")
    store.save_engine_settings(EngineSettings(model_dir=str(bundled_model_dir())))
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitUntil(lambda: window.engine is not None, timeout=30000)
    yield window
    window.cancel()
    window.pool.waitForDone(30000)


def test_the_window_shows_a_pdfs_pages_and_boxes_its_answer_there(qtbot, window, tmp_path):
    path = write_book(tmp_path / "keeper.pdf", pages=3)
    window.open_file(path)
    # The pages are on screen as the file opens, before its text is read.
    assert window.views.shows_pages and window.pages.currentWidget() is window.document_pane
    qtbot.waitUntil(lambda: window.document is not None and window.views.page_view.ready, timeout=20000)
    window.question.setText("When did the keeper light the lamp?")
    window.ask()
    qtbot.waitUntil(lambda: window.prediction is not None and not window.controller.reading, timeout=60000)
    best = window.prediction.answers[0]
    assert "dusk" in best.text
    view = window.views.page_view
    assert view._chosen is best
    qtbot.keyClick(window.answers.list, Qt.Key.Key_F3)
    chosen = view._chosen
    page = window.document.source_map.page_spans(chosen.start, chosen.end)[0].page
    qtbot.waitUntil(lambda: view.page_chars(page) is not None and view._pending_reveal is None, timeout=10000)
    assert page in view.visible_pages()
    # The text view, one switch away, has the same answers.
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not window.views.shows_pages
    assert (chosen.start, chosen.end) in window.text_view.highlighted_ranges()


def test_a_file_that_does_not_open_leaves_the_window_as_it_was(qtbot, window, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    shown = []
    window.controller.error.connect(lambda title, message: shown.append(message))
    window.open_file(broken)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert window.pages.currentWidget() is window.empty_state


def blank_pdf(path: Path, sizes: list[tuple[float, float]]) -> Path:
    pdf = pdfium.PdfDocument.new()
    for width, height in sizes:
        pdf.new_page(width, height)
    pdf.save(str(path))
    pdf.close()
    return path


def test_ten_thousand_pages_open_at_once_and_any_one_is_reached(qtbot, views, tmp_path):
    path = blank_pdf(tmp_path / "long.pdf", [(612, 792)] * 10_000)
    view = views.page_view
    view.open_file(str(path))
    qtbot.waitUntil(lambda: view.laid_out, timeout=20000)
    assert view.page_count == 10_000
    view.go_to_page(9_998)
    qtbot.waitUntil(lambda: 9_998 in view._images, timeout=10000)
    assert len(view._images) <= 2 * page_view_module.NEAR_PAGES + 4


def test_a_huge_page_is_drawn_within_the_pixel_budget(qtbot, views, tmp_path):
    path = blank_pdf(tmp_path / "poster.pdf", [(612, 792), (20_000, 20_000)])
    view = views.page_view
    view.open_file(str(path))
    qtbot.waitUntil(lambda: view.laid_out, timeout=10000)
    view.set_zoom(page_view_module.ZOOM_RANGE[1])
    view.go_to_page(1)
    qtbot.waitUntil(lambda: 1 in view._images, timeout=20000)
    image = view._images[1][1]
    assert image.width() * image.height() <= MAX_RENDER_PIXELS


def scanned_copy(pdf_path: Path, out: Path, suffix: str) -> Path:
    """The pages of ``pdf_path`` as pictures: a PDF of scans, or a multi-page TIFF."""
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        pictures = [pdf[index].render(scale=200 / 72).to_pil().convert("RGB") for index in range(len(pdf))]
    finally:
        pdf.close()
    if suffix == ".tiff":
        pictures[0].save(out, save_all=True, append_images=pictures[1:], dpi=(200, 200), compression="tiff_deflate")
        return out
    scan = FPDF()
    for picture in pictures:
        scan.add_page()
        scan.image(picture, x=0, y=0, w=scan.w, h=scan.h)
    scan.output(str(out))
    return out


@pytest.mark.parametrize("suffix", [".pdf", ".tiff"])
def test_a_scan_shows_its_pages_with_the_answer_boxed_where_ocr_read_it(qtbot, views, tmp_path, suffix, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    scan = scanned_copy(write_book(tmp_path / "book.pdf", pages=2), tmp_path / f"scan{suffix}", suffix)
    document = open_pages(qtbot, views, scan)
    view = views.page_view
    assert views.shows_pages and view.page_count == 2 and set(document.source_map.boxes) == {0, 1}
    phrase = "northern reef"
    start = document.text.index(phrase, document.text.index("This is page 2."))
    answer = Answer(text=phrase, start=start, end=start + len(phrase), score=0.9, logit=3.0, document=document.id)
    views.highlight([answer])
    views.select_answer(answer, True)
    qtbot.waitUntil(lambda: view.page_chars(1) is not None and view._pending_reveal is None, timeout=20000)
    (span,) = document.source_map.page_spans(answer.start, answer.end)
    chars = view.page_chars(1)
    assert span.page == 1 and chars.text[span.first : span.first + span.count] == phrase
    # Where the words stand on the page: the second printed line of the book's page, on its left half.
    book = PdfPages(tmp_path / "book.pdf")
    try:
        text = book.text(1)
        first = text.text.index(phrase)
        want = book.info(1).view_boxes(text.boxes[first : first + len(phrase)])
    finally:
        book.close()
    ((x0, y0, x1, y1),) = chars.span_rects(span.first, span.count)
    assert abs(x0 - want[:, 0].min()) < 0.01 and abs(x1 - want[:, 2].max()) < 0.01
    assert y0 <= want[:, 3].max() and y1 >= want[:, 1].min()  # the line's box covers the glyphs'
    assert 1 in view.visible_pages()


def test_the_window_says_which_page_ocr_reads_and_esc_stops_it(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    scan = scanned_copy(write_book(tmp_path / "book.pdf", pages=6), tmp_path / "scan.pdf", ".pdf")
    window.open_file(scan)
    # Its pages show at once, while OCR reads them.
    assert window.views.shows_pages and window.pages.currentWidget() is window.document_pane
    qtbot.waitUntil(lambda: "by OCR" in window.status_text(), timeout=20000)
    assert window.status_text().startswith("Opening scan.pdf: reading page ") and "Esc stops" in window.status_text()
    assert window.cancel_action.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.status_text() == "Stopped opening the file.", timeout=10000)
    window.pool.waitForDone(30000)
    assert window.document is None and window.pages.currentWidget() is window.empty_state
    assert not window.cancel_action.isEnabled()


def test_an_answer_on_a_rotated_page_is_boxed_over_its_glyphs(qtbot, views, tmp_path):
    path = write_book(tmp_path / "turned.pdf", pages=2)
    pdf = pdfium.PdfDocument(str(path))
    pdf[1].set_rotation(90)  # the page is shown turned a quarter, as a landscape table often is
    pdf.save(str(tmp_path / "rotated.pdf"))
    pdf.close()
    document = open_pages(qtbot, views, tmp_path / "rotated.pdf")
    view = views.page_view
    qtbot.waitUntil(lambda: view.page_chars(1) is not None, timeout=10000)
    start = document.text.index("northern reef", document.text.index("This is page 2."))
    (span,) = document.source_map.page_spans(start, start + len("northern reef"))
    ((x0, y0, x1, y1),) = view.page_chars(1).span_rects(span.first, span.count)
    assert y1 - y0 > x1 - x0  # the words run down the turned page
    pages = PdfPages(tmp_path / "rotated.pdf")
    try:
        pixels = pages.render(1, 2.0)[..., :3].mean(axis=2)
    finally:
        pages.close()
    height, width = pixels.shape
    inside = pixels[int(y0 * height) : int(y1 * height) + 1, int(x0 * width) : int(x1 * width) + 1]
    assert (inside < 128).mean() > 0.1  # ink under the box: it is where the words are drawn
