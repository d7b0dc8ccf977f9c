"""The reader's place: a document opens at its start or where the reader left it, across restarts.

The window is real and its events are real Qt events; the engine is the paced fake (tests/fakes.py),
as these tests are about the view, not the answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractSlider

from reading_assistant.core.engine import PARTIAL_WINDOWS
from reading_assistant.core.reading import Prediction
from reading_assistant.gui import settings_dialog
from reading_assistant.gui.main import open_at_start
from reading_assistant.gui.main_window import MainWindow
from reading_assistant.gui.settings import MAX_PLACES, EngineSettings, Store
from reading_assistant.gui.settings_dialog import SettingsDialog
from reading_assistant.gui.text_view import wrapped
from tests.fakes import WINDOWS, FakeEngine, answer


def long_text(name: str) -> str:
    return f"{name} begins here. Marie Curie was born in Warsaw.\n" + "".join(
        f"{name}, line {n}: nothing to see. She moved to Paris.\n" for n in range(3000)
    )


@pytest.fixture()
def store(tmp_path) -> Store:
    return Store(tmp_path / "settings.ini")


def new_window(qtbot, store: Store, engine: FakeEngine | None = None) -> MainWindow:
    engine = engine or FakeEngine()
    window = MainWindow(store=store, pool=QThreadPool(), opener=lambda settings: engine)
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    qtbot.waitUntil(lambda: window.engine is not None, timeout=5000)
    return window


def open_and_show(qtbot, window: MainWindow, path: Path) -> None:
    window.open_file(path)
    qtbot.waitUntil(lambda: window.document is not None and window.document.name == path.name, timeout=10000)
    qtbot.waitUntil(lambda: window.views.ready, timeout=10000)
    qtbot.wait(20)


def page_down(window: MainWindow, times: int) -> None:
    for _ in range(times):
        window.text_view.verticalScrollBar().triggerAction(QAbstractSlider.SliderAction.SliderPageStepAdd)


def top_line(window: MainWindow) -> int:
    return window.text_view.firstVisibleBlock().blockNumber()


def close(window: MainWindow) -> None:
    window.close()
    window.pool.waitForDone(5000)


def test_a_document_reopens_where_the_reader_left_it_even_after_a_restart(qtbot, store, tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text(long_text("First"))
    second.write_text(long_text("Second"))
    window = new_window(qtbot, store)
    open_and_show(qtbot, window, first)
    assert top_line(window) == 0
    page_down(window, 40)
    left_at = top_line(window)
    assert left_at > 100
    open_and_show(qtbot, window, second)
    assert top_line(window) == 0  # a document never read opens at its start, not where the last one was
    open_and_show(qtbot, window, first)
    assert abs(top_line(window) - left_at) <= 2
    close(window)

    again = new_window(qtbot, store)
    open_and_show(qtbot, again, first)
    assert abs(top_line(again) - left_at) <= 2
    close(again)


def test_switching_documents_while_reading_opens_the_new_one_at_its_start(qtbot, store, tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text(long_text("First"))
    second.write_text(long_text("Second"))
    engine = FakeEngine(paced=True)
    window = new_window(qtbot, store, engine)
    open_and_show(qtbot, window, first)
    window.question.setText("Where did she move?")
    window.ask()
    engine.release(PARTIAL_WINDOWS)
    qtbot.waitUntil(lambda: window.prediction is not None, timeout=5000)
    window.text_view.verticalScrollBar().setValue(window.text_view.verticalScrollBar().maximum())
    window.open_file(second)  # while the first is still being read
    engine.release(WINDOWS)
    qtbot.waitUntil(lambda: window.document.name == "second.txt" and window.views.ready, timeout=10000)
    qtbot.wait(50)
    assert top_line(window) == 0
    close(window)


def at_the_end(text: str, question: str, done: int, total: int) -> Prediction:
    return Prediction(question, [answer(text, "Sceaux")], 0.05, -4.0, True, done, 0.01, total, 300)


def test_an_answer_brought_into_view_wins_over_the_place(qtbot, store, tmp_path):
    first = tmp_path / "first.txt"
    first.write_text(long_text("First") + "At the very end, Curie retired to Sceaux.\n")
    store.save_place(str(first.resolve()), 1000)
    engine = FakeEngine(answers=at_the_end)
    window = new_window(qtbot, store, engine)
    window.open_file(first, question="Where did Curie retire?")
    qtbot.waitUntil(lambda: window.prediction is not None and not window.controller.reading, timeout=10000)
    qtbot.waitUntil(lambda: window.views.ready, timeout=10000)
    qtbot.wait(50)
    cursor = window.text_view.textCursor()
    assert cursor.selectedText() == "Sceaux"
    assert window.text_view.viewport().rect().contains(window.text_view.cursorRect(cursor).center())
    close(window)


def test_places_are_bounded_and_a_damaged_entry_is_ignored(store):
    for n in range(MAX_PLACES + 5):
        store.save_place(f"/documents/{n}.txt", 25)
    assert store.place("/documents/0.txt") is None  # the oldest went first
    assert store.place(f"/documents/{MAX_PLACES + 4}.txt") == 25
    store._qsettings.setValue("places/recent", '[["/a.txt", "far"], ["/b.txt", 5], 7, ["/c.txt", -3]]')
    assert (store.place("/a.txt"), store.place("/b.txt"), store.place("/c.txt")) == (None, 5, None)
    store._qsettings.setValue("places/recent", "{not json")
    assert store.place("/b.txt") is None


def test_the_last_document_reopens_on_start_only_when_the_reader_asked_for_it(qtbot, store, tmp_path):
    first = tmp_path / "first.txt"
    first.write_text(long_text("First"))
    window = new_window(qtbot, store)
    open_and_show(qtbot, window, first)
    page_down(window, 10)
    left_at = top_line(window)
    close(window)

    again = new_window(qtbot, store)
    open_at_start(again, None, None)
    assert again.document is None  # off unless chosen
    close(again)

    store.save_reopens_last(True)
    again = new_window(qtbot, store)
    open_at_start(again, None, None)
    qtbot.waitUntil(lambda: again.document is not None and again.views.ready, timeout=10000)
    qtbot.wait(20)
    assert again.document.name == "first.txt" and abs(top_line(again) - left_at) <= 2  # where it was left
    close(again)


def test_settings_offer_the_reopening_and_flag_a_gpu_that_is_not_there(qtbot, store, monkeypatch):
    # No GPU runtime can be installed here: the one that is missing is the case to show.
    monkeypatch.setattr(settings_dialog, "installed_gpus", lambda: [])
    dialog = SettingsDialog(EngineSettings(device="gpu"), None, reopens_last=True)
    qtbot.addWidget(dialog)
    assert dialog.reopens_last()
    dialog.show()
    size = dialog.size()
    assert "No GPU runtime is installed here" in dialog.device_note.text()
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    assert dialog.device_note.text() == ""
    for level in range(dialog.thoroughness.maximum() + 1):
        dialog.thoroughness.setValue(level)
        qtbot.wait(10)
        assert dialog.size() == size  # notes that change or wrap do not resize the dialog
    monkeypatch.setattr(settings_dialog, "installed_gpus", lambda: ["CUDA"])
    dialog.device.setCurrentIndex(dialog.device.findData("gpu"))
    assert dialog.device_note.text() == "GPU runtime installed: CUDA."


def test_margin_labels_wrap_between_words_and_are_cut_only_past_their_lines(qtbot):
    metrics = QFontMetrics(QFont())
    width = metrics.horizontalAdvance("0") * 12
    assert wrapped("Installing", metrics, width, 3) == ["Installing"]
    lines = wrapped("Users and Groups on a Shared Machine", metrics, width, 3)
    assert " ".join(lines) == "Users and Groups on a Shared Machine" and len(lines) > 1
    assert all(metrics.horizontalAdvance(line) <= width for line in lines)
    cut = wrapped("A heading that names almost everything this chapter will ever say", metrics, width, 2)
    assert len(cut) == 2 and cut[-1].endswith("…")


def test_each_tab_keeps_its_place_and_its_answers(qtbot, store, tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text(long_text("First"))
    second.write_text(long_text("Second"))
    window = new_window(qtbot, store)
    open_and_show(qtbot, window, first)
    window.question.setText("Where was Curie born?")
    window.ask()
    qtbot.waitUntil(lambda: window.prediction is not None and not window.controller.reading, timeout=5000)
    page_down(window, 30)
    left_at = top_line(window)
    open_and_show(qtbot, window, second)
    assert window.tabs.isVisible() and window.tabs.count() == 2 and top_line(window) == 0
    window.tabs.setCurrentIndex(0)  # as a click on the first tab does
    qtbot.waitUntil(lambda: window.document.name == "first.txt" and window.views.ready, timeout=5000)
    qtbot.wait(20)
    assert abs(top_line(window) - left_at) <= 2
    assert window.answers.list.count() == 1 and window.question.text() == "Where was Curie born?"
    window.close_action.trigger()
    assert window.document.name == "second.txt" and window.tabs.isHidden()
    close(window)
