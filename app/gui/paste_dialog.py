"""Ctrl+V over an open document asks first, so a stray paste never opens a document by accident; and
pasted text that could not be kept is never closed without asking."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from .words import plural

# Words on the clipboard up to which the question box is offered first.
SHORT_PASTE_WORDS = 40


def ask_before_replacing(
    parent: QWidget, text: str, name: str, replace: Callable[[], None], into_question: Callable[[], None]
) -> QMessageBox:
    """Ask whether ``text`` opens as a document beside the one called ``name``, goes into the question
    box, or nothing happens; the choice calls ``replace`` or ``into_question``. The window keeps running."""
    words = len(text.split())
    box = QMessageBox(parent)
    box.setObjectName("pasteDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Paste")
    box.setText(f"Open the {plural(words, 'word')} on the clipboard as a new document, beside “{html.escape(name)}”?")
    box.setInformativeText("Or paste them into the question box.")
    replace_button = box.addButton("Open as Document", QMessageBox.ButtonRole.AcceptRole)
    question_button = box.addButton("Paste into Question", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(question_button if words <= SHORT_PASTE_WORDS else cancel)
    box.setEscapeButton(cancel)

    def answered() -> None:
        clicked = box.clickedButton()
        if clicked is replace_button:
            replace()
        elif clicked is question_button:
            into_question()

    box.finished.connect(answered)
    box.open()
    return box


def ask_before_losing(parent: QWidget, name: str, close: Callable[[], None]) -> QMessageBox:
    """Ask before pasted text that could not be kept (too large for the pasted folder, or the folder
    cannot be written) is closed: once closed, it is gone."""
    box = QMessageBox(parent)
    box.setObjectName("unkeptDialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Close Pasted Text")
    box.setText(f"Close “{html.escape(name)}”?")
    box.setInformativeText(
        "This pasted text could not be kept for Recent (it is very large, or the cache folder cannot be "
        "written), so it cannot be opened again once closed."
    )
    replace_button = box.addButton("Close", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.finished.connect(lambda _: close() if box.clickedButton() is replace_button else None)
    box.open()
    return box
