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


def message_box(parent: QWidget, name: str, icon: QMessageBox.Icon, title: str, text: str, more: str) -> QMessageBox:
    """A window-modal question that deletes itself once answered; the window keeps running."""
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    box.setInformativeText(more)
    return box


def ask_before_opening(
    parent: QWidget, text: str, name: str, open_document: Callable[[], None], into_question: Callable[[], None]
) -> QMessageBox:
    """Ask whether ``text`` opens as a document beside the one called ``name``, goes into the question
    box, or nothing happens; the choice calls ``open_document`` or ``into_question``."""
    words = len(text.split())
    box = message_box(
        parent,
        "pasteDialog",
        QMessageBox.Icon.Question,
        "Paste",
        f"Open the {plural(words, 'word')} on the clipboard as a new document, beside “{html.escape(name)}”?",
        "Or paste them into the question box.",
    )
    open_button = box.addButton("Open as Document", QMessageBox.ButtonRole.AcceptRole)
    question_button = box.addButton("Paste into Question", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(question_button if words <= SHORT_PASTE_WORDS else cancel)
    box.setEscapeButton(cancel)

    def answered() -> None:
        clicked = box.clickedButton()
        if clicked is open_button:
            open_document()
        elif clicked is question_button:
            into_question()

    box.finished.connect(answered)
    box.open()
    return box


def ask_before_losing(parent: QWidget, name: str, close: Callable[[], None]) -> QMessageBox:
    """Ask before pasted text that could not be kept (too large for the pasted folder, or the folder
    cannot be written) is closed: once closed, it is gone."""
    box = message_box(
        parent,
        "unkeptDialog",
        QMessageBox.Icon.Warning,
        "Close Pasted Text",
        f"Close “{html.escape(name)}”?",
        "This pasted text could not be kept for Recent (it is very large, or the cache folder cannot be "
        "written), so it cannot be opened again once closed.",
    )
    close_button = box.addButton("Close", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.finished.connect(lambda _: close() if box.clickedButton() is close_button else None)
    box.open()
    return box
