"""The reader's tools and safeguards in the real window, with real keys and clicks, on the real model:
paste that never throws a document away, focus, find, copy, export, zoom, reopen, markers and
locations, the read map, the view that stays where the reader put it, the early stop on a settled
"no answer", Help, and a window that fits the screen at a scale factor of 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt, QThreadPool
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence, QPalette
from PySide6.QtWidgets import QAbstractSlider, QApplication, QDialog, QMessageBox

from reading_assistant.core.engine import PARTIAL_WINDOWS
from reading_assistant.core.options import EARLY_WINDOWS
from reading_assistant.gui import export
from reading_assistant.gui.main_window import MainWindow
from reading_assistant.gui.widgets import fit_to_screen
from tests.fakes import WINDOWS, FakeEngine
from tests.test_controller import reranking
from tests.test_gui import CURIE, LONG, ask, strict_model_store, wait_for_answers, write

pytest_plugins = ["tests.test_gui"]  # the model_dir, store and window fixtures

MARKDOWN = (
    "# Early life\n\nMarie Curie was born in Warsaw in 1867.\n\n"
    "# Paris\n\nShe moved to Paris in 1891 to study physics.\n"
)


def open_document(qtbot, window: MainWindow, path: Path) -> None:
    window.open_file(path)
    qtbot.waitUntil(lambda: window.document is not None and window.document.name == path.name, timeout=10000)


def activate(qtbot, window: MainWindow) -> None:
    """Shortcuts reach the active window only."""
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def focus_widget_is(qtbot, widget) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=5000)


def contrast(one: QColor, two: QColor) -> float:
    def luminance(color: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in color.getRgbF()[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# -- nothing is lost by accident --------------------------------------------------------------------


def test_focus_starts_in_the_question_box_and_typing_opens_nothing(qtbot, window):
    activate(qtbot, window)
    focus_widget_is(qtbot, window.question)
    qtbot.keyClicks(QApplication.focusWidget(), "What is this?")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert window.question.text() == "What is this? "
    assert QApplication.activeModalWidget() is None  # no file dialog
    assert window.status_text().startswith("First open, drop or paste a document")
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert window.status_text().startswith("Open, drop or paste a document first")
    assert window.question.text() == "What is this? "  # the question waits in the box


def test_ctrl_v_in_the_empty_window_pastes_a_document(qtbot, window):
    QGuiApplication.clipboard().setText(CURIE)
    activate(qtbot, window)
    focus_widget_is(qtbot, window.question)
    window.pages.setFocus()
    qtbot.keyClick(window.pages, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.document is not None and window.document.name == "Pasted text"


def paste_dialog(qtbot, window: MainWindow) -> QMessageBox:
    def shown() -> list[QMessageBox]:
        return [box for box in window.findChildren(QMessageBox, "pasteDialog") if box.isVisible()]

    qtbot.waitUntil(lambda: bool(shown()), timeout=5000)
    return shown()[0]


def click_button(qtbot, box: QMessageBox, text: str) -> None:
    button = next(b for b in box.buttons() if b.text() == text)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5000)
    box.deleteLater()
    qtbot.waitUntil(lambda: box.parent() is None or not box.isVisible(), timeout=5000)


@pytest.mark.parametrize("focus", ["document", "answers"])
def test_ctrl_v_over_an_open_document_asks_first(qtbot, window, tmp_path, focus):
    open_document(qtbot, window, write(tmp_path, "curie.txt", CURIE))
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    book = window.document
    activate(qtbot, window)
    target = window.text_view if focus == "document" else window.answers.list
    target.setFocus()
    QGuiApplication.clipboard().setText("four words from clipboard")

    def press_ctrl_v() -> None:
        activate(qtbot, window)  # the dialog had the focus
        target.setFocus()
        qtbot.keyClick(target, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)

    qtbot.keyClick(target, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    box = paste_dialog(qtbot, window)
    assert "curie.txt" in box.text() and "4 words" in box.text()
    assert box.defaultButton().text() == "Paste into Question"  # a few words: most likely a question
    click_button(qtbot, box, "Cancel")
    assert window.document is book and window.prediction.answers  # nothing lost

    press_ctrl_v()
    click_button(qtbot, paste_dialog(qtbot, window), "Paste into Question")
    assert window.document is book and window.question.text().endswith("four words from clipboard")

    press_ctrl_v()
    click_button(qtbot, paste_dialog(qtbot, window), "Open as Document")
    assert window.document.name == "Pasted text" and window.prediction is None
    # The book stays open in its tab, with its answers.
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["curie.txt", "Pasted text"]
    window.tabs.setCurrentIndex(0)
    assert window.document is book and window.prediction.answers[0].text == "Warsaw"


# -- one state, shown once ----------------------------------------------------------------------


def test_the_view_stays_where_the_reader_scrolled_when_the_read_ends(qtbot, window, tmp_path):
    open_document(qtbot, window, write(tmp_path, "long.txt", LONG))
    ask(qtbot, window, "Where was Curie born?")
    qtbot.waitUntil(lambda: window.prediction is not None, timeout=30000)
    view = window.text_view
    bar = view.verticalScrollBar()
    assert window.controller.reading, "the long text should still be read after the first answers"
    for _ in range(3):
        bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepAdd)  # the reader pages down
    top = view.firstVisibleBlock().blockNumber()
    assert top > 0
    wait_for_answers(qtbot, window)
    assert view.firstVisibleBlock().blockNumber() == top  # the same text at the top of the view
    # The document's selection is on the selected answer, and a click brings it back into view.
    row = window.answers.list.currentRow()
    assert window.text_view.textCursor().selectedText() == window.prediction.answers[row].text
    rect = window.answers.list.visualItemRect(window.answers.list.item(row))
    qtbot.mouseClick(window.answers.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.firstVisibleBlock().blockNumber() != top


def test_a_new_first_answer_while_reading_takes_the_selection_and_the_view_with_it(qtbot, store, tmp_path):
    """The ranking changes during the read (a paced fake engine, as a model's order cannot be timed):
    the document's selection and the view both move to the new first answer."""
    filler = "".join(f"Line {n} says nothing about anyone.\n" for n in range(400))
    text = f"Curie was born in Warsaw. Some say Krakow.\n{filler}She moved to Paris.\n"
    engine = FakeEngine(paced=True, answers=reranking)
    window = MainWindow(store=store, pool=QThreadPool(), opener=lambda settings: engine)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine is not None, timeout=5000)
    open_document(qtbot, window, write(tmp_path, "curie.txt", text))
    view = window.text_view

    def on_screen(word: str) -> bool:
        cursor = view.textCursor()
        return cursor.selectedText() == word and view.viewport().rect().contains(view.cursorRect(cursor).center())

    ask(qtbot, window, "Where was Curie born?")
    engine.release(PARTIAL_WINDOWS)
    qtbot.waitUntil(lambda: on_screen("Warsaw"), timeout=5000)
    engine.release(WINDOWS)
    qtbot.waitUntil(lambda: not window.controller.reading, timeout=5000)
    qtbot.waitUntil(lambda: on_screen("Paris"), timeout=5000)
    assert window.answers.list.currentRow() == 0
    window.cancel()
    window.pool.waitForDone(5000)


def test_the_read_map_shows_what_was_read(qtbot, window, tmp_path):
    open_document(qtbot, window, write(tmp_path, "long.txt", LONG))
    ask(qtbot, window, "Where was Curie born?")
    qtbot.waitUntil(lambda: bool(window.read_map.read_spans()), timeout=30000)
    text_length = len(window.document.text)
    wait_for_answers(qtbot, window)
    spans = window.read_map.read_spans()
    assert spans[0][0] == 0 and spans[-1][1] >= text_length - 2  # everything read, in one piece
    assert window.read_map.answer_offsets == [a.start for a in window.prediction.answers]
    assert "the most relevant first" in window.read_map.toolTip()
    assert window.progress.format() == "Reading the most relevant parts of the document first…"


def test_a_settings_change_on_an_open_book_neither_reloads_the_model_nor_tokenizes_again(qtbot, window, tmp_path):
    open_document(qtbot, window, write(tmp_path, "long.txt", LONG))
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    engine, before = window.engine, window.prediction
    tokens = engine.tokenize_document(window.document.text)
    tokenized = []
    engine.tokenizer.tokenize = lambda *args, _tokenize=engine.tokenizer.tokenize, **kwargs: (
        tokenized.append(len(args[0])) or _tokenize(*args, **kwargs)
    )
    own = engine.config.doc_stride
    window.controller.apply_settings(replace(window.controller.settings, doc_stride=own // 2, top_k=2))
    assert window.engine is engine and window.model_label.full_text().startswith("Model: ")  # not reloading
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    assert window.engine is engine
    assert engine.tokenize_document(window.document.text) is tokens
    assert tokenized == [len("Where was Curie born?")]  # only the question, never the book again
    assert window.prediction.total_windows > before.total_windows  # more careful: more windows
    assert len(window.prediction.answers) <= 2 < len(before.answers)
    window.pool.waitForDone(30000)


def test_a_settled_no_answer_stops_early_and_read_the_rest_reads_on(qtbot, tmp_path, model_dir):
    store = strict_model_store(tmp_path, model_dir)
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.show()
    window.open_file(write(tmp_path, "long.txt", LONG), question="What is the capital of Peru?")
    qtbot.waitUntil(lambda: window.controller.stopped_early, timeout=60000)
    qtbot.waitUntil(lambda: not window.answers.read_rest_row.isHidden(), timeout=5000)
    prediction = window.prediction
    assert EARLY_WINDOWS <= prediction.windows < prediction.total_windows
    assert window.status_text().startswith("No answer in the most relevant")
    assert "does not seem to answer" in window.answers.banner.text()
    assert window.text_view.textCursor().selectedText() == ""  # a guess is not selected as an answer
    qtbot.mouseClick(window.answers.read_rest_button, Qt.MouseButton.LeftButton)
    assert window.controller.reading
    qtbot.waitUntil(lambda: not window.controller.reading, timeout=120000)
    assert window.prediction.windows == window.prediction.total_windows
    assert window.status_text().endswith("the whole document read.")
    assert window.answers.read_rest_row.isHidden()
    window.pool.waitForDone(30000)


def test_quitting_while_reading_prints_no_error(qtbot, store, tmp_path, capfd):
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine is not None, timeout=30000)
    open_document(qtbot, window, write(tmp_path, "long.txt", LONG))
    ask(qtbot, window, "Where was Curie born?")
    qtbot.waitUntil(lambda: window.progress.value() > 0, timeout=30000)
    window.close()
    assert window.pool.activeThreadCount() == 0  # closing waited for the read to stop
    qtbot.wait(50)
    assert "RuntimeError" not in capfd.readouterr().err


# -- the reader's tools -----------------------------------------------------------------------------


def test_find_in_the_document(qtbot, window, tmp_path):
    open_document(qtbot, window, write(tmp_path, "curie.txt", CURIE))
    activate(qtbot, window)
    window.text_view.setFocus()
    qtbot.keyClick(window.text_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.find_bar.isVisible()
    focus_widget_is(qtbot, window.find_bar.field)
    qtbot.keyClicks(window.find_bar.field, "curie")
    assert window.find_bar.count.text() == "3 matches"
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Return)
    assert window.find_bar.count.text() == "1 of 3"
    assert window.text_view.textCursor().selectedText() == "Curie"
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Return)
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert window.find_bar.count.text() == "1 of 3"
    qtbot.keyClick(window.find_bar.field, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible() and window.text_view.find_matches == []


def test_copy_and_export_answers(qtbot, window, tmp_path, monkeypatch):
    open_document(qtbot, window, write(tmp_path, "curie.md", MARKDOWN))
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    best = window.prediction.answers[0]
    activate(qtbot, window)
    window.answers.list.setFocus()
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(window.answers.list, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == best.text
    assert [a.text() for a in window.answers.menu_actions()][:2] == ["&Copy Answer", "Copy Answer with &Evidence"]
    qtbot.keyClick(
        window.answers.list, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert "Early life" in QGuiApplication.clipboard().text() and "curie.md" in QGuiApplication.clipboard().text()

    target = tmp_path / "answers.json"
    monkeypatch.setattr(
        "reading_assistant.gui.main_window.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "JSON (*.json)")
    )
    qtbot.keyClick(window.answers.list, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["question"] == "Where was Curie born?" and data["document"] == "curie.md"
    assert data["answers"][0]["text"] == best.text and data["answers"][0]["location"] == "Early life"
    assert 0 < data["answers"][0]["confidence"] <= 1 and data["share_read"] == 1.0
    assert window.status_text() == "Answers exported to answers.json."


def test_export_formats_carry_question_document_location_and_confidence(tmp_path):
    from reading_assistant.core.decoding import Answer
    from reading_assistant.core.documents import Document
    from reading_assistant.core.reading import Prediction

    document = Document("Curie was born in Warsaw.", "curie.txt", "text")
    prediction = Prediction("Where?", [Answer("Warsaw", 18, 24, 0.91, 3.0)], 0.02, -3.0, True, 1, 0.1, 1, 300)
    data = export.collect(prediction, document, lambda offset: "Line 1", "model-x", tmp_path / "curie.txt")
    markdown = export.to_markdown(data)
    assert markdown.startswith("# Where?\n") and "1. **Warsaw** — 91%, Line 1" in markdown
    assert "> Curie was born in Warsaw." in markdown and "model-x" in markdown
    rows = export.to_csv(data).splitlines()
    assert rows[0].startswith("question,document,rank,answer,confidence,location")
    assert rows[1].startswith("Where?,curie.txt,1,Warsaw,0.9100,Line 1,")
    assert export.write(data, tmp_path / "out.txt").suffix == ".md"  # an unknown suffix gets Markdown


def test_an_answer_across_a_wrapped_line_is_exported_on_one_line_with_its_exact_text_kept(tmp_path):
    from reading_assistant.core.decoding import Answer
    from reading_assistant.core.documents import Document
    from reading_assistant.core.reading import Prediction

    text = "Modified versions must be marked as\nchanged, so that problems are not attributed to others."
    document = Document(text, "gpl.txt", "text")
    answer = Answer("marked as\nchanged", text.index("marked"), text.index("changed") + 7, 0.4, 1.0)
    data = export.collect(Prediction("What?", [answer], 0.1, -5.0, True, 1, 0.1, 1, 300), document, lambda _: "Line 1")
    assert "1. **marked as changed** — 40%, Line 1" in export.to_markdown(data)  # bold across a line break breaks
    assert export.answer_text(data, 0, with_evidence=False) == "marked as changed"
    assert json.loads(export.to_json(data))["answers"][0]["text"] == "marked as\nchanged"  # offsets still fit


def test_zoom_is_remembered(qtbot, store):
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    activate(qtbot, window)
    size = window.text_view.font().pointSizeF()
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.text_view.font().pointSizeF() == size + 2
    window.close()
    again = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(again)
    activate(qtbot, again)
    assert again.text_view.font().pointSizeF() == size + 2
    qtbot.keyClick(again, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert again.text_view.font().pointSizeF() == size
    again.pool.waitForDone(30000)


def test_reopen_the_last_document_and_forget_a_missing_one(qtbot, store, tmp_path):
    first, second = write(tmp_path, "first.txt", CURIE), write(tmp_path, "second.md", MARKDOWN)
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    for path in (first, second):
        open_document(qtbot, window, path)
    window.close()
    first.unlink()
    again = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(again)
    activate(qtbot, again)
    assert again.recent_menu.paths() == [str(second.resolve())]  # the missing file is gone from the menu
    assert again.reopen_action.text() == "&Reopen second.md"
    assert any(b.text() == "Reopen second.md" and b.isVisible() for b in again.empty_state.buttons)
    qtbot.keyClick(again, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: again.document is not None, timeout=10000)
    assert again.document.name == "second.md"
    # With second.md open, Reopen names the document before it, not the one on screen.
    third = write(tmp_path, "third.txt", CURIE)
    open_document(qtbot, again, third)
    assert again.reopen_action.text() == "&Reopen second.md"
    again.reopen_action.trigger()
    qtbot.waitUntil(lambda: again.document.name == "second.md", timeout=10000)
    assert again.reopen_action.text() == "&Reopen third.txt"
    again.pool.waitForDone(30000)


def test_headings_are_marked_and_every_answer_has_a_location(qtbot, window, tmp_path):
    open_document(qtbot, window, write(tmp_path, "curie.md", MARKDOWN))
    assert list(window.text_view.markers.values()) == ["Early life", "Paris"]
    assert window.text_view.gutter.isVisible() and window.text_view.gutter.width() > 0
    assert [label for _, label in window.text_view.visible_markers()] == ["Early life", "Paris"]
    ask(qtbot, window, "When did she move to Paris?")
    wait_for_answers(qtbot, window)
    card = window.answers.list.itemWidget(window.answers.list.item(0))
    assert card.context.text().startswith("<b>Paris</b> · ")
    # Plain text has no headings: each answer gives its line.
    open_document(qtbot, window, write(tmp_path, "curie.txt", CURIE))
    assert not window.text_view.gutter.isVisible()
    ask(qtbot, window, "When did she move to Paris?")
    wait_for_answers(qtbot, window)
    card = window.answers.list.itemWidget(window.answers.list.item(0))
    assert card.context.text().startswith("<b>Line ")


def test_questions_are_recalled_after_a_restart(qtbot, store, tmp_path):
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.open_file(write(tmp_path, "curie.txt", CURIE), question="Where was Curie born?")
    wait_for_answers(qtbot, window, "Where was Curie born?")
    window.close()
    again = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(again)
    qtbot.keyClick(again.question, Qt.Key.Key_Up)
    assert again.question.text() == "Where was Curie born?"
    again.pool.waitForDone(30000)


def test_help_shows_shortcuts_and_about_shows_the_model_card_and_licences(qtbot, window):
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.findChild(QDialog, "shortcutsDialog") is not None, timeout=5000)
    table = window.findChild(QDialog, "shortcutsDialog").table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    for name, keys in (("Next Answer", "F3"), ("Find in Document", "Ctrl+F"), ("Read the Rest", "Ctrl+R")):
        assert rows[name] == keys
    window.about_action.trigger()
    qtbot.waitUntil(lambda: window.findChild(QDialog, "aboutDialog") is not None, timeout=5000)
    about = window.findChild(QDialog, "aboutDialog")
    # The model in plain words first: its name, size, what it reads and how well; the card a tab away.
    summary = about.summary.toPlainText()
    assert summary.startswith("minilm-squad-int8, 21.8 MB") and "reads English only" in summary
    assert "stage 8" not in summary.lower() and "log loss" not in summary and "EM" not in summary.split()
    assert "Stage 9" in about.card.toPlainText()
    assert about.licence.toPlainText().startswith("MIT License")
    assert "onnxruntime" in about.third_party.toPlainText() and "LGPL" in about.third_party.toPlainText()


# -- layout ---------------------------------------------------------------------------------------


def test_the_empty_windows_hint_is_readable(window):
    palette = window.empty_state.hint.palette()
    fore = palette.color(QPalette.ColorRole.WindowText)
    back = palette.color(QPalette.ColorRole.Window)
    assert contrast(fore, back) >= 4.5
    assert window.splitter.handleWidth() >= 6


def test_long_answers_wrap_inside_the_list(qtbot, window, tmp_path):
    url = "https://example.org/" + "averyveryverylongpathsegment" * 4
    open_document(qtbot, window, write(tmp_path, "site.txt", f"The project's home page is {url} and nowhere else.\n"))
    window.splitter.setSizes([500, 250])
    ask(qtbot, window, "What is the project's home page?")
    wait_for_answers(qtbot, window)
    qtbot.waitUntil(lambda: window.answers.list.count() > 0, timeout=5000)
    viewport = window.answers.list.viewport().width()
    for row in range(window.answers.list.count()):
        assert window.answers.list.itemWidget(window.answers.list.item(row)).width() <= viewport
    assert window.answers.list.horizontalScrollBar().maximum() == 0


def test_geometry_is_clamped_to_the_screen():
    from PySide6.QtCore import QRect

    available = QRect(0, 0, 960, 540)
    assert fit_to_screen(QRect(100, 50, 1200, 760), available) == QRect(0, 0, 960, 540)
    assert fit_to_screen(QRect(900, 500, 400, 300), available) == QRect(560, 240, 400, 300)
    assert fit_to_screen(QRect(10, 10, 400, 300), available) == QRect(10, 10, 400, 300)


def test_at_scale_factor_2_the_window_fits_the_screen(tmp_path):
    """A new window and a restored full-size one, at QT_SCALE_FACTOR=2 on a 1920x1080 screen."""
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": 1920, "height": 1080}]}))
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QByteArray, QThreadPool
        from PySide6.QtWidgets import QApplication
        from reading_assistant.core.errors import ModelError
        from reading_assistant.gui.main_window import MainWindow
        from reading_assistant.gui.settings import Store

        def no_model(settings):
            raise ModelError("not needed here")

        app = QApplication([])
        available = app.primaryScreen().availableGeometry()
        store = Store(Path({str(tmp_path / "settings.ini")!r}))
        for attempt in range(2):
            window = MainWindow(store=store, pool=QThreadPool(), opener=no_model)
            window.show()
            app.processEvents()
            geometry = window.frameGeometry()
            print(attempt, available.width(), available.height(), geometry.width(), geometry.height(),
                  available.contains(geometry))
            if attempt == 0:
                window.resize(3000, 2000)  # then saved as the window closes, as a big screen would
            window.close()
        """
    )
    env = {
        **os.environ,
        "QT_SCALE_FACTOR": "2",
        "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
    }
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line[:1] in "01"]
    assert len(lines) == 2
    for _, width, height, window_width, window_height, inside in lines:
        assert (int(width), int(height)) == (960, 540), "the offscreen screen did not take the scale factor"
        assert int(window_width) <= 960 and int(window_height) <= 540 and inside == "True"


# -- keys that work wherever the focus is ---------------------------------------------------------

WINDOW_KEYS = {
    "open_action": "Ctrl+O",
    "reopen_action": "Ctrl+Shift+T",
    "close_action": "Ctrl+W",
    "outline_action": "Ctrl+Shift+O",
    "focus_question_action": "Ctrl+L",
    "read_rest_action": "Ctrl+R",
    "next_action": "F3",
    "previous_action": "Shift+F3",
    "copy_evidence_action": "Ctrl+Shift+C",
    "export_action": "Ctrl+E",
    "find_action": "Ctrl+F",
    "zoom_in_action": "Ctrl++",
    "zoom_out_action": "Ctrl+-",
    "zoom_reset_action": "Ctrl+0",
    "settings_action": "Ctrl+,",
    "shortcuts_action": "F1",
    "quit_action": "Ctrl+Q",
}


class BindsEveryKey(QObject):
    """A widget that claims every key for itself, as a line edit claims Ctrl+E ("end of line") with
    the X11 key scheme (the offscreen platform the tests run on has a scheme without it)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return False


@pytest.mark.parametrize("focus", ["question", "answers", "document"])
def test_window_keys_work_wherever_the_focus_is(qtbot, window, tmp_path, focus):
    """Each window-wide key, pressed as a real key event with the focus in the question box, the
    answers list or the document, triggers its action, even where the widget claims the key. The
    actions' own slots (dialogs, quitting) are disconnected: here only the key's route is tested."""
    open_document(qtbot, window, write(tmp_path, "curie.txt", CURIE))
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    activate(qtbot, window)
    triggered = []
    for name in WINDOW_KEYS:
        action = getattr(window, name)
        action.setEnabled(True)
        action.triggered.disconnect()
        action.triggered.connect(lambda *_, name=name: triggered.append(name))
    target = {"question": window.question, "answers": window.answers.list, "document": window.text_view}[focus]
    claims = BindsEveryKey(target)
    target.installEventFilter(claims)
    window.window_keys.watch(target)  # a real widget claims keys in its own handler, after every filter
    for name, keys in WINDOW_KEYS.items():
        target.setFocus()
        focus_widget_is(qtbot, target)
        sequence = QKeySequence(keys)[0]
        qtbot.keyClick(target, sequence.key(), sequence.keyboardModifiers())
        assert triggered[-1:] == [name], (keys, focus)
    target.removeEventFilter(claims)
    # The keys that mean something where the focus is keep their meaning there.
    window.question.setFocus()
    focus_widget_is(qtbot, window.question)
    window.question.setText("Where")
    qtbot.keyClick(window.question, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.question.selectedText() == "Where"


def test_the_theme_switch_colours_the_whole_app_and_is_kept(qtbot, window, tmp_path):
    open_document(qtbot, window, write(tmp_path, "curie.txt", CURIE))
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    actions = {a.data(): a for a in window.theme_menu.actions()}
    assert actions["system"].isChecked()

    def highlight() -> QColor:
        selection = window.text_view.extraSelections()[0]
        char_format = selection.format
        return QColor(char_format.background().color())

    before = highlight()
    actions["dark"].trigger()
    qtbot.wait(20)
    try:
        assert QApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128
        assert window.store.theme() == "dark" and actions["dark"].isChecked()
        # The highlights are drawn again for the dark background, and every text keeps its contrast.
        assert highlight() != before
        palette = window.text_view.palette()
        assert contrast(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)) > 7
        actions["light"].trigger()
        assert QApplication.palette().color(QPalette.ColorRole.Base).lightness() > 128
    finally:
        actions["system"].trigger()
    assert window.store.theme() == "system"
