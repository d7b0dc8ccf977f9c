"""The window with real widgets, real Qt events and the real engine on the bundled model."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from reading_assistant.cli import window_parser
from reading_assistant.core.documents import Document
from reading_assistant.core.paths import bundled_model_dir
from reading_assistant.gui.controller import open_engine_for
from reading_assistant.gui.main_window import MainWindow
from reading_assistant.gui.settings import EngineSettings, Store
from reading_assistant.gui.settings_dialog import SettingsDialog

CURIE = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on radioactivity. "
    "She was the first woman to win a Nobel Prize, and the only person to win it in two sciences. "
    "Curie was born in Warsaw, in what was then the Kingdom of Poland, in 1867. "
    "She moved to Paris in 1891 to study at the University of Paris. \r\n\r\n"
    "In 1903 she shared the Nobel Prize in Physics 📚 with Pierre Curie and Henri Becquerel.\n"
)
LONG = (CURIE.replace("\r\n", "\n") + "Unrelated filler about gardens, rivers and weather. " * 40 + "\n") * 12


@pytest.fixture(scope="session")
def model_dir() -> Path:
    folder = bundled_model_dir()
    assert (folder / "reading_assistant.json").is_file(), f"the bundled model is missing from {folder}"
    return folder


@pytest.fixture()
def store(tmp_path, model_dir) -> Store:
    store = Store(tmp_path / "settings.ini")
    store.save_engine_settings(EngineSettings(model_dir=str(model_dir)))
    return store


@pytest.fixture()
def window(qtbot, store):
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine is not None, timeout=30000)
    yield window
    window.cancel()
    window.pool.waitForDone(30000)


def strict_model_store(tmp_path: Path, model_dir: Path) -> Store:
    """Settings on a copy of the bundled model whose threshold makes 'no answer' win, to show that state."""
    strict = tmp_path / "strict"
    shutil.copytree(model_dir, strict)
    config = json.loads((strict / "reading_assistant.json").read_text())
    config["null_threshold"] = -1e9
    (strict / "reading_assistant.json").write_text(json.dumps(config))
    store = Store(tmp_path / "settings.ini")
    store.save_engine_settings(EngineSettings(model_dir=str(strict)))
    return store


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def drag_enter(point: QPointF, mime: QMimeData) -> QDragEnterEvent:
    """A drag-enter event; Qt 6.12 takes a QPointF and deprecates the QPoint form that older Qt needs."""
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        return QDragEnterEvent(point, *args)
    except TypeError:
        return QDragEnterEvent(point.toPoint(), *args)


def drop_file(window: MainWindow, path: Path) -> None:
    """A real drag-enter and drop, as a file manager sends them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    point = window.rect().center()
    enter = drag_enter(QPointF(point), mime)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(point), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, drop)


def ask(qtbot, window: MainWindow, question: str) -> None:
    window.question.clear()
    qtbot.keyClicks(window.question, question)
    qtbot.keyClick(window.question, Qt.Key.Key_Return)


def wait_for_answers(qtbot, window: MainWindow, question: str | None = None, timeout: int = 60000) -> None:
    """Until the question (by default the one in the box) has its final answers, not best-so-far ones."""
    question = question or window.question.text().strip()
    qtbot.waitUntil(
        lambda: (
            not window.controller.reading and window.prediction is not None and window.prediction.question == question
        ),
        timeout=timeout,
    )


def test_starts_on_the_empty_state_with_the_model_in_the_status_bar(window):
    assert window.pages.currentWidget() is window.empty_state
    assert "CPU" in window.model_label.text()


def test_drop_a_file_ask_and_see_highlights(qtbot, window, tmp_path):
    drop_file(window, write(tmp_path, "curie.txt", CURIE))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    assert window.pages.currentWidget() is window.document_pane
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    prediction = window.prediction
    assert prediction.answers and window.answers.list.count() == len(prediction.answers)
    assert "Warsaw" in prediction.answers[0].text
    # The highlights are exactly the answers' character spans, even after \r\n and an emoji.
    assert sorted(window.text_view.highlighted_ranges()) == sorted((a.start, a.end) for a in prediction.answers)
    # The best answer is selected in the document.
    cursor = window.text_view.textCursor()
    assert cursor.selectedText() == prediction.answers[0].text
    assert window.status_text().startswith("Answered in") and window.status_text().endswith("the whole document read.")
    # Each answer says where it is: plain text has no pages, so its line.
    assert window.answers.list.itemWidget(window.answers.list.item(0)).context.text().startswith("<b>Line 1</b>")


def test_a_question_asked_while_the_model_loads_is_answered_and_the_wait_message_goes(qtbot, store):
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.controller.set_document(Document(text=CURIE, name="curie.txt", format="text"))
    ask(qtbot, window, "Where was Curie born?")  # before the loading task has reported back
    assert window.engine is None
    assert window.status_text() == "Waiting for the model to load…"
    wait_for_answers(qtbot, window)
    assert "Warsaw" in window.prediction.answers[0].text
    assert window.status_text().startswith("Answered in")
    window.pool.waitForDone(30000)


def test_answers_are_stepped_with_f3_and_clicks(qtbot, window, tmp_path):
    window.open_file(write(tmp_path, "curie.txt", CURIE))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    ask(qtbot, window, "Who shared the Nobel Prize in Physics?")
    wait_for_answers(qtbot, window)
    answers = window.prediction.answers
    assert len(answers) >= 2
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert window.answers.list.currentRow() == 1
    assert window.text_view.textCursor().selectedText() == answers[1].text
    qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert window.answers.list.currentRow() == 0
    rect = window.answers.list.visualItemRect(window.answers.list.item(2))
    qtbot.mouseClick(window.answers.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.text_view.textCursor().selectedText() == answers[2].text


def test_cancel_stops_within_a_batch_and_the_event_loop_keeps_turning(qtbot, window, tmp_path):
    window.open_file(write(tmp_path, "long.txt", LONG))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    ask(qtbot, window, "Where was Curie born?")
    late = []
    # The window keeps handling timers while the model runs (on a loaded machine the first window
    # can take longer than three ticks, so wait for both rather than read the ticks at once).
    qtbot.waitUntil(lambda: window.progress.value() > 0 and len(ticks) >= 3, timeout=30000)
    assert window.progress.isVisible() and window.progress.maximum() > window.progress.value()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.progress.isVisible() and not window.cancel_button.isEnabled()
    shown = window.prediction
    window.controller.progress_changed.connect(lambda done, total: late.append(done))
    window.controller.answers_changed.connect(lambda prediction: late.append(prediction))
    window.pool.waitForDone(30000)
    qtbot.wait(50)
    timer.stop()
    # The engine stops within a batch (test_engine); nothing it read after Esc reaches the window.
    assert late == []
    assert window.prediction is shown
    # The best answers found before stopping stay on screen, and the rest can be read.
    if shown is not None:
        assert shown.windows < window.progress.maximum()
        assert window.answers.list.count() == len(shown.answers)
        assert window.status_text().startswith("Stopped after ")
        assert window.read_rest_action.isEnabled() and not window.answers.read_rest_row.isHidden()
    else:
        assert window.status_text() == "Cancelled before the first answers."


def test_long_document_streams_answers_before_reading_everything(qtbot, window, tmp_path):
    window.open_file(write(tmp_path, "long.txt", LONG))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    partials = []
    ask(qtbot, window, "Where was Curie born?")
    window.controller.answers_changed.connect(lambda prediction: partials.append(prediction))
    qtbot.waitUntil(lambda: window.status_text().startswith("Answered"), timeout=120000)
    assert len(partials) > 1, "no best-so-far answers were shown while reading"
    assert partials[0].windows < window.prediction.windows
    assert window.prediction.windows == window.progress.maximum()


def test_asking_again_cancels_the_old_question(qtbot, window, tmp_path):
    window.open_file(write(tmp_path, "long.txt", LONG))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    shown = []
    window.controller.answers_changed.connect(lambda prediction: shown.append(prediction.question))
    ask(qtbot, window, "What did Curie research?")
    ask(qtbot, window, "Where was Curie born?")
    wait_for_answers(qtbot, window)
    window.pool.waitForDone(30000)
    qtbot.wait(50)
    # The first question's reading was stopped: none of its answers reached the window.
    assert shown and set(shown) == {"Where was Curie born?"}
    assert window.prediction.question == "Where was Curie born?"


def test_unanswerable_question_says_so_and_offers_guesses(qtbot, tmp_path, model_dir):
    store = strict_model_store(tmp_path, model_dir)
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.open_file(write(tmp_path, "curie.txt", CURIE), question="What is the capital of Peru?")
    wait_for_answers(qtbot, window, "What is the capital of Peru?")
    assert not window.answers.banner.isHidden()
    assert "does not seem to answer" in window.answers.banner.text()
    assert window.answers.list.count() > 0
    window.pool.waitForDone(30000)


def test_bad_file_shows_an_error_dialog_and_keeps_the_document(qtbot, window, tmp_path):
    window.open_file(write(tmp_path, "curie.txt", CURIE))
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    bad = tmp_path / "data.txt"
    bad.write_bytes(b"\x00\x01\x02\x03" * 100)
    drop_file(window, bad)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorDialog") is not None, timeout=10000)
    dialog = window.findChild(QMessageBox, "errorDialog")
    assert "binary" in dialog.text()
    assert window.document.name == "curie.txt"  # nothing was lost
    dialog.close()


def test_paste_from_clipboard_and_question_history(qtbot, window):
    QGuiApplication.clipboard().setText(CURIE)
    window.text_view.setFocus()
    window.paste_action.trigger()
    # Pasted text goes through the loaders' rules: line endings become \n, as in a file.
    pasted = window.document
    assert pasted is not None and pasted.text == CURIE.replace("\r\n", "\n")
    window.question.setFocus()
    QGuiApplication.clipboard().setText("Where was Curie born?")
    qtbot.keyClick(window.question, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.question.text() == "Where was Curie born?"
    assert window.document is pasted  # pasting into the question box leaves the document alone
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    wait_for_answers(qtbot, window)
    ask(qtbot, window, "When did she move to Paris?")
    wait_for_answers(qtbot, window)
    window.question.clear()
    qtbot.keyClick(window.question, Qt.Key.Key_Up)
    assert window.question.text() == "When did she move to Paris?"
    qtbot.keyClick(window.question, Qt.Key.Key_Up)
    assert window.question.text() == "Where was Curie born?"
    qtbot.keyClick(window.question, Qt.Key.Key_Down)
    assert window.question.text() == "When did she move to Paris?"


def test_recent_files_geometry_and_splitter_are_restored(qtbot, store, tmp_path):
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.show()
    path = write(tmp_path, "curie.txt", CURIE)
    window.open_file(path)
    qtbot.waitUntil(lambda: window.document is not None, timeout=10000)
    window.resize(700, 500)  # inside the offscreen screen (800x600), which clamps geometry
    window.splitter.setSizes([300, 600])
    sizes = window.splitter.sizes()
    window.close()
    window.pool.waitForDone(30000)

    again = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(again)
    again.show()
    assert (again.size().width(), again.size().height()) == (700, 500)
    assert again.splitter.sizes() == sizes
    assert again.recent_menu.paths() == [str(path.resolve())]
    assert again.recent_menu.actions()[0].text().startswith("curie.txt  —  ")  # the name and its folder
    again.recent_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: again.document is not None, timeout=10000)
    assert again.document.name == "curie.txt"
    again.pool.waitForDone(30000)


def test_command_line_opens_a_file_and_asks(qtbot, store, tmp_path):
    path = write(tmp_path, "curie.txt", CURIE)
    arguments = window_parser().parse_args([str(path), "--question", "Where was Curie born?"])
    window = MainWindow(store=store, pool=QThreadPool())
    qtbot.addWidget(window)
    window.open_file(arguments.file, question=arguments.question)
    wait_for_answers(qtbot, window, arguments.question)
    assert window.question.text() == "Where was Curie born?"
    assert "Warsaw" in window.prediction.answers[0].text
    window.pool.waitForDone(30000)


def test_drop_target_ignores_things_that_are_not_files_or_text(window):
    mime = QMimeData()
    mime.setData("application/x-unknown", b"\x00")
    enter = drag_enter(QPointF(5, 5), mime)
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_thoroughness_is_the_models_own_stride_unless_the_reader_moves_it(qtbot, model_dir):
    dialog = SettingsDialog(EngineSettings(), None)
    qtbot.addWidget(dialog)
    labels = {label.text(): label.buddy() for label in dialog.findChildren(QLabel)}
    assert labels["&Model (name or folder):"] is dialog.model_dir  # Alt+M reaches the model box
    assert labels["&Thoroughness:"] is dialog.thoroughness
    assert dialog.model_status.text() == "✓ minilm-squad-int8 is ready to use."
    assert dialog.result_settings().doc_stride is None
    assert dialog.thoroughness_note.text() == "<b>Standard</b>: passages overlap as the model expects; the usual time."
    own = json.loads((model_dir / "reading_assistant.json").read_text())["doc_stride"]
    engine = open_engine_for(replace(dialog.result_settings(), model_dir=str(model_dir)))
    assert engine.resolve(dialog.result_settings().choices()).windows.doc_stride == own
    dialog.thoroughness.setFocus()
    qtbot.keyClick(dialog.thoroughness, Qt.Key.Key_Right)  # one step more careful: half the stride
    assert "twice the time" in dialog.thoroughness_note.text()
    assert dialog.result_settings().doc_stride == own // 2
    engine = open_engine_for(replace(dialog.result_settings(), model_dir=str(model_dir)))
    assert engine.resolve(dialog.result_settings().choices()).windows.doc_stride == own // 2
    qtbot.keyClick(dialog.thoroughness, Qt.Key.Key_Home)
    assert "as fast" in dialog.thoroughness_note.text() and dialog.result_settings().doc_stride > own
    assert dialog.answer_length.currentText().startswith("Standard")


def test_a_folder_without_a_model_is_refused_in_the_dialog_with_the_reason(qtbot, tmp_path):
    dialog = SettingsDialog(EngineSettings(), None)
    qtbot.addWidget(dialog)
    dialog.show()
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    dialog.model_dir.setText(str(empty))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result() == 0  # not accepted
    assert "has no .onnx file" in dialog.model_status.text() and dialog.model_status.text().startswith("⚠ The")
    dialog.model_dir.clear()  # back to the bundled model
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result() == 1


def test_settings_offer_the_installed_models_by_name_with_size_and_speed(qtbot, tmp_path):
    """A model added to the store (here a copy of the bundled one, as 'models add FOLDER' would keep it)
    is listed by name; choosing it puts its name in the model box, which the engine resolves."""
    from reading_assistant.core.model_store import add_model
    from reading_assistant.gui.controller import open_engine_for

    add_model(str(bundled_model_dir()), name="my-copy")
    dialog = SettingsDialog(EngineSettings(), None)
    qtbot.addWidget(dialog)
    labels = [dialog.installed.itemText(i) for i in range(dialog.installed.count())]
    assert any(label.startswith("minilm-squad-int8 (bundled) · 2") and " MB · " in label for label in labels)
    mine = next(i for i, label in enumerate(labels) if label.startswith("my-copy · "))
    assert "ms per window" in labels[mine]
    dialog.installed.activated.emit(mine)
    assert dialog.model_dir.text() == "my-copy"
    assert "ready to use" in dialog.model_status.text()
    chosen = dialog.result_settings()
    assert chosen.model_dir == "my-copy"
    assert open_engine_for(chosen).name == "my-copy"
