"""Starts the window on an optional file and question (parsed by ``reading_assistant.cli``)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from .. import __version__
from .main_window import MainWindow
from .single_instance import FileOpenFilter, OpenRequest, claim_or_hand_over
from .theme import apply_theme
from .widgets import app_icon


def run_gui(file: Path | None = None, question: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Reading Assistant")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    files = (file.absolute(),) if file is not None else ()
    instance = claim_or_hand_over(OpenRequest(files, question))
    if instance is None:
        return 0  # the window already running took the file
    window = MainWindow()
    apply_theme(window.store.theme())
    instance.setParent(window)
    instance.open_requested.connect(lambda request: open_handed_over(window, request))
    finder = FileOpenFilter(window)
    finder.file_opened.connect(window.open_file)
    app.installEventFilter(finder)
    window.show()
    open_at_start(window, file, question)
    return app.exec()


def open_handed_over(window: MainWindow, request: OpenRequest) -> None:
    """Files another start was given open here, the question asked of the first; the window comes
    to the front (a start without files only brings it there)."""
    for n, path in enumerate(request.files):
        window.open_file(path, question=request.question if n == 0 else None)
    if not request.files and request.question:
        window.question.setText(request.question)
    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()


def open_at_start(window: MainWindow, file: Path | None, question: str | None) -> None:
    """The file named on the command line; without one, the last document if the reader asked for
    it in Settings (and it still exists); the question is asked of it, or waits in the box."""
    last = window.store.existing_recent_files()[:1] if file is None and window.store.reopens_last() else []
    if file is not None or last:
        window.open_file(file or Path(last[0]), question=question)
    elif question:
        window.question.setText(question)
