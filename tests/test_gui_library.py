"""The library in the real window: real files, a real SQLite file, real Qt events, the real models."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from reading_assistant.core.library import INDEXED, WAITING
from reading_assistant.gui.main_window import MainWindow
from tests.test_gui import drop_file

pytest_plugins = ["tests.test_gui"]  # the model_dir, store and window fixtures

CURIE = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on radioactivity. "
    "She was born in Warsaw in 1867 and moved to Paris in 1891 to study at the Sorbonne.\n"
)
GARDENS = "# Gardens\n\nThe walled garden was planted in 1820 with pear trees along its southern wall.\n"


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """A data folder of this test's own: the library file lives there."""
    folder = tmp_path / "data-home"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


@pytest.fixture
def library_window(data_home, window):
    """The test_gui window, made after ``data_home`` so that its library is this test's own."""
    return window


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def indexed(window: MainWindow) -> int:
    return window.library.manager.counts().get(INDEXED, 0)


def idle(window: MainWindow) -> bool:
    manager = window.library.manager
    return manager._indexing is None and not manager.counts().get(WAITING)


def test_a_dropped_folder_is_indexed_asked_and_an_answer_opens_its_document(qtbot, library_window, tmp_path):
    window = library_window
    shelf = tmp_path / "shelf"
    curie = put(shelf / "curie.txt", CURIE)
    put(shelf / "notes" / "gardens.md", GARDENS)
    drop_file(window, shelf)  # a folder dropped on the window joins the library
    assert window.library.isVisible()
    qtbot.waitUntil(lambda: indexed(window) == 2 and idle(window), timeout=60000)
    qtbot.waitUntil(lambda: window.library.manager.counts()["embedded"] == 2, timeout=60000)
    tree = window.library.panel.tree
    folder = tree.topLevelItem(0)
    assert folder.text(0) == "shelf" and folder.text(1) == "2 of 2"
    assert sorted(folder.child(i).text(0) for i in range(folder.childCount())) == ["curie.txt", "gardens.md"]

    window.question.setFocus()
    window.question.setText("Where was Marie Curie born?")
    QTest.keyClick(
        window.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(
        lambda: (
            window.document is not None
            and window.document.format == "library"
            and window.prediction is not None
            and not window.controller.reading
        ),
        timeout=60000,
    )
    assert window.document.name.startswith("Library: Where was Marie Curie")
    best = window.prediction.answers[0]
    assert best.text == "Warsaw"
    assert window.document.location(best.start).startswith("curie.txt")
    assert window.library.open_source_action.isEnabled()

    window.controller.choose(0)
    answers = window.answers.list
    first = answers.visualItemRect(answers.item(0)).center()
    QTest.mouseClick(answers.viewport(), Qt.MouseButton.LeftButton, pos=first)
    QTest.mouseDClick(answers.viewport(), Qt.MouseButton.LeftButton, pos=first)  # opens its document
    qtbot.waitUntil(lambda: window.document.origin == str(curie.resolve()) and window.text_view.ready, timeout=30000)
    qtbot.waitUntil(lambda: window.text_view.textCursor().selectedText() == "Warsaw", timeout=5000)
    assert not window.library.open_source_action.isEnabled()

    # A document the library has embedded is read by meaning beside words: the hook knows it.
    assert window.controller.meaning == window.library.manager.meaning
    meanings = []

    def recorded(document, question):
        meanings.append(window.library.manager.meaning(document, question))
        return meanings[-1]

    window.controller.meaning = recorded
    window.controller.ask("When did she move to Paris?")
    qtbot.waitUntil(lambda: not window.controller.reading and window.prediction is not None, timeout=60000)
    assert window.prediction.answers[0].text == "1891"
    ((start, end, cosine),) = meanings[0]  # curie.txt is one passage
    assert window.document.text[start:end].startswith("Marie Curie was") and cosine > 0.3


def test_indexing_pauses_keeps_what_it_did_and_resumes(qtbot, library_window, tmp_path):
    window = library_window
    folder = tmp_path / "many"
    for n in range(120):
        put(folder / f"note-{n:03}.txt", f"Note {n}. The parcel number {n} was posted from Leeds.\n" * 20)
    window.library.add([folder])
    qtbot.waitUntil(lambda: indexed(window) >= 3, timeout=60000)
    panel = window.library.panel
    QTest.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: window.library.manager._indexing is None, timeout=30000)
    paused_at = indexed(window)
    assert 3 <= paused_at < 120
    qtbot.wait(300)
    assert indexed(window) == paused_at  # nothing goes on while paused
    QTest.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: indexed(window) == 120 and idle(window), timeout=120000)
    assert panel.pause_button.text() == "Pause"


def test_asking_an_empty_library_says_how_to_fill_it(qtbot, library_window):
    window = library_window
    window.question.setText("Where was Marie Curie born?")
    window.library.ask_action.trigger()
    qtbot.waitUntil(lambda: "no documents yet" in window.statusBar().currentMessage(), timeout=5000)
    assert window.document is None


def test_a_folder_is_taken_out_from_the_panel(qtbot, library_window, tmp_path):
    window = library_window
    shelf = tmp_path / "shelf"
    put(shelf / "curie.txt", CURIE)
    put(shelf / "gardens.md", GARDENS)
    window.library.add([shelf])
    qtbot.waitUntil(lambda: indexed(window) == 2 and idle(window), timeout=60000)
    panel = window.library.panel
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    QTest.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 0, timeout=30000)
    assert window.library.manager.documents() == [] and "Taken out" in window.statusBar().currentMessage()


def test_a_question_is_asked_of_one_folder_when_the_panel_says_so(qtbot, library_window, tmp_path):
    window = library_window
    physics, gardens = tmp_path / "physics", tmp_path / "gardens"
    put(physics / "curie.txt", CURIE)
    put(gardens / "walled.md", GARDENS)
    window.library.add([physics, gardens])
    qtbot.waitUntil(lambda: indexed(window) == 2 and idle(window), timeout=60000)
    panel = window.library.panel
    scopes = [panel.scope_box.itemText(i) for i in range(panel.scope_box.count())]
    assert scopes == ["The whole library", "gardens", "physics"] and panel.scope_box.isEnabled()

    panel.set_scope(str(gardens.resolve()))
    window.question.setText("Where was Marie Curie born?")
    window.library.ask_action.trigger()
    qtbot.waitUntil(lambda: not window.controller.reading and window.prediction is not None, timeout=60000)
    assert window.document.name.startswith("Library, gardens: Where was Marie Curie")
    assert [section.label.split(" · ")[0] for section in window.document.sections] == ["walled.md"]
    assert "Warsaw" not in [answer.text for answer in window.prediction.answers]

    panel.set_scope(None)
    window.library.ask_action.trigger()
    qtbot.waitUntil(
        lambda: window.document.name.startswith("Library: Where") and not window.controller.reading, timeout=60000
    )
    qtbot.waitUntil(lambda: window.prediction is not None, timeout=60000)
    assert window.prediction.answers[0].text == "Warsaw"

    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))  # the gardens folder goes: the scope follows
    panel.set_scope(str(gardens.resolve()))
    QTest.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=30000)
    assert panel.scope() is None and not panel.scope_box.isEnabled()


def test_a_library_document_reopened_is_not_tokenized_again(qtbot, library_window, tmp_path, monkeypatch):
    window = library_window
    book = put(
        tmp_path / "shelf" / "harbour.txt",
        "".join(
            f"The harbour master of town {n} counted {n % 90} ships in the year {1700 + n}.\n" for n in range(2_000)
        ),
    )
    window.library.add([book.parent])
    qtbot.waitUntil(lambda: indexed(window) == 1 and idle(window), timeout=60000)
    window.open_file(book)
    qtbot.waitUntil(
        lambda: (
            window.library.manager._read(lambda lib: lib.store.read("SELECT count(*) FROM tokens"), [[0]])[0][0] == 1
        ),
        timeout=60000,
    )

    window.controller.close_document()
    qtbot.waitUntil(lambda: window.document is None, timeout=5000)
    engine = window.engine
    engine._documents.clear()  # as after a restart: only the library remembers the tokens
    tokenize = engine.tokenizer.tokenize

    def tokenize_questions_only(text, *arguments, **options):
        assert len(text) < 200, "the document was tokenized again"
        return tokenize(text, *arguments, **options)

    monkeypatch.setattr(engine.tokenizer, "tokenize", tokenize_questions_only)
    window.open_file(book)
    window.question.setText("How many ships did the harbour master of town 1500 count?")
    qtbot.waitUntil(lambda: window.document is not None and window.document.origin == str(book), timeout=30000)
    # Prepared (the library's tokens taken) before the question, as a reader's first question comes.
    qtbot.waitUntil(lambda: window.document.text in engine._documents, timeout=30000)
    window.ask()
    qtbot.waitUntil(lambda: window.prediction is not None and not window.controller.reading, timeout=60000)
    assert window.prediction.answers[0].text == "60"
