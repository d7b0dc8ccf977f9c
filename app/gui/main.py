"""Starts the window on an optional file and question (parsed by ``reading_assistant.cli``)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from .. import __version__
from .main_window import MainWindow
from .widgets import app_icon


def run_gui(file: Path | None = None, question: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Reading Assistant")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.show()
    if file is not None:
        window.open_file(file, question=question)
    elif question:
        window.question.setText(question)
    return app.exec()
