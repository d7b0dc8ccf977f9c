"""Pasted text is kept and listed in Recent; forgetting removes the copy and the place; text that
could not be kept is never replaced without asking. Real window, real files in the test's cache
folder, the fake engine (the answers do not matter here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from reading_assistant.gui import pasted
from reading_assistant.gui.main_window import MainWindow
from reading_assistant.gui.settings import Store
from tests.test_gui_places import close, new_window

TEXT = "Marie Curie was born in Warsaw.\nShe moved to Paris in 1891.\n"


@pytest.fixture()
def window(qtbot, tmp_path):
    for old in pasted.pasted_dir().glob("*.txt"):
        old.unlink()
    window = new_window(qtbot, Store(tmp_path / "settings.ini"))
    yield window
    close(window)


def drop_file(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)


def test_a_paste_is_kept_listed_in_recent_and_opens_again_as_it_was(qtbot, window, tmp_path):
    assert window.controller.open_text(TEXT, "Pasted text")
    (copy,) = pasted.pasted_dir().glob("*.txt")
    assert copy.read_text() == TEXT
    assert window.recent_menu.paths() == [str(copy)]
    entry = window.recent_menu.actions()[0].text()
    assert entry.startswith("Pasted text, ") and str(copy.parent) not in entry
    other = tmp_path / "other.txt"
    other.write_text("Another document entirely.\n")
    drop_file(window, other)  # the paste is kept: nothing to ask
    qtbot.waitUntil(lambda: window.document is not None and window.document.name == "other.txt", timeout=5000)
    assert window.recent_menu.paths() == [str(other.resolve()), str(copy)]
    next(a for a in window.recent_menu.actions() if a.data() == str(copy)).trigger()
    qtbot.waitUntil(lambda: window.document.name == "Pasted text", timeout=5000)
    assert window.document.text == TEXT


def test_forgetting_removes_the_entry_the_copy_and_the_place(qtbot, window):
    window.controller.open_text(TEXT, "Pasted text")
    (copy,) = pasted.pasted_dir().glob("*.txt")
    window.store.save_place(str(copy), 12)
    window.forget_action.trigger()
    assert not copy.exists() and window.store.place(str(copy)) is None
    assert window.recent_menu.paths() == []


def test_clear_menu_forgets_every_document_listed(qtbot, window, tmp_path):
    kept = tmp_path / "kept.txt"
    kept.write_text("A file of the reader's own.\n")
    window.open_file(kept)
    qtbot.waitUntil(lambda: window.document is not None and window.document.name == "kept.txt", timeout=5000)
    window.controller.open_text(TEXT, "Pasted text")
    (copy,) = pasted.pasted_dir().glob("*.txt")
    window.store.save_place(str(kept.resolve()), 5)
    clear = next(a for a in window.recent_menu.actions() if a.text() == "Clear Menu")
    clear.trigger()
    assert window.recent_menu.paths() == [] and not copy.exists() and window.store.place(str(kept.resolve())) is None
    assert kept.exists()  # the reader's own file is never touched


def test_the_folder_keeps_only_the_newest_pastes(monkeypatch):
    monkeypatch.setattr(pasted, "MAX_KEPT", 3)
    paths = []
    for n in range(5):
        paths.append(pasted.keep(f"Paste number {n}."))
    kept = sorted(pasted.pasted_dir().glob("*.txt"))
    assert len(kept) == 3 and paths[-1] in kept


def test_text_that_could_not_be_kept_is_not_closed_without_asking(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(pasted, "MAX_PASTE_BYTES", 10)  # as if the paste were larger than the folder takes
    window.controller.open_text(TEXT, "Pasted text")
    assert list(pasted.pasted_dir().glob("*.txt")) == [] and window.controller.current.unkept
    other = tmp_path / "other.txt"
    other.write_text("Another document entirely.\n")
    drop_file(window, other)  # opens beside it: nothing is lost
    qtbot.waitUntil(lambda: window.document is not None and window.document.name == "other.txt", timeout=5000)
    assert window.tabs.count() == 2
    window.tabs.setCurrentIndex(0)
    window.close_action.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "cannot be opened again" in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(50)
    assert window.document.name == "Pasted text" and window.tabs.count() == 2
    window.close_action.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    next(b for b in box.buttons() if b.text() == "Close").click()
    qtbot.waitUntil(lambda: window.document.name == "other.txt", timeout=5000)
    assert window.tabs.count() == 1 and window.tabs.isHidden()  # one document: no tab bar


def test_a_paste_with_windows_line_ends_and_a_broken_character_reopens_as_it_was_shown(qtbot, window):
    window.controller.open_text("First line\r\nSecond line \ud800 with a lone surrogate\r\n", "Pasted text")
    shown = window.document.text
    (copy,) = pasted.pasted_dir().glob("*.txt")
    next(a for a in window.recent_menu.actions() if a.data() == str(copy)).trigger()
    qtbot.waitUntil(lambda: window.tabs.count() == 1 and window.document.text == shown, timeout=5000)
    assert "\r" not in shown and "\ufffd" in shown
