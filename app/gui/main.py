"""Starts the window: ``reading-assistant [FILE] [--question TEXT]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app import __version__
from app.gui.main_window import MainWindow, app_icon


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="reading-assistant",
        description="Open the Reading Assistant window. Commands: ask, eval, bench (see 'reading-assistant ask -h').",
    )
    parser.add_argument("file", nargs="?", type=Path, help="a document to open")
    parser.add_argument("--question", help="a question to ask once the document is open")
    return parser.parse_args(argv)


def run_gui(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Reading Assistant")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.show()
    if arguments.file is not None:
        window.open_file(arguments.file, question=arguments.question)
    elif arguments.question:
        window.question.setText(arguments.question)
    return app.exec()
