"""Starts the window on an optional file and question (parsed by ``reading_assistant.cli``)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from .. import __version__
from .main_window import MainWindow
from .theme import apply_theme
from .widgets import app_icon


def run_gui(file: Path | None = None, question: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Reading Assistant")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    window = MainWindow()
    apply_theme(window.store.theme())
    window.show()
    open_at_start(window, file, question)
    return app.exec()


def open_at_start(window: MainWindow, file: Path | None, question: str | None) -> None:
    """The file named on the command line; without one, the last document if the reader asked for
    it in Settings (and it still exists); the question is asked of it, or waits in the box."""
    last = window.store.existing_recent_files()[:1] if file is None and window.store.reopens_last() else []
    if file is not None or last:
        window.open_file(file or Path(last[0]), question=question)
    elif question:
        window.question.setText(question)
