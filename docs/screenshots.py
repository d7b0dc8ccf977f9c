"""Renders the README's screenshots with the real window and the bundled model.

``QT_QPA_PLATFORM=offscreen python docs/screenshots.py`` writes docs/*.png: the empty window, a
document with highlighted answers, the no-answer case, and the same answers in a dark palette.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reading_assistant.gui.main_window import MainWindow  # noqa: E402
from reading_assistant.gui.settings import Store  # noqa: E402

DOCUMENT = """The Nobel Prize

Marie Curie was a Polish and naturalised-French physicist and chemist who conducted pioneering \
research on radioactivity. She was the first woman to win a Nobel Prize, the first person to win a \
Nobel Prize twice, and the only person to win a Nobel Prize in two scientific fields.

Curie was born in Warsaw, in what was then the Kingdom of Poland, part of the Russian Empire. She \
studied at Warsaw's clandestine Flying University and began her practical scientific training in \
Warsaw. In 1891, aged 24, she followed her elder sister Bronisława to study in Paris, where she \
earned her higher degrees and conducted her subsequent scientific work.

In 1895 she married the French physicist Pierre Curie, and she shared the 1903 Nobel Prize in \
Physics with him and with the physicist Henri Becquerel for their pioneering work developing the \
theory of "radioactivity", a term she coined. In 1906 Pierre Curie died in a Paris street accident. \
Marie won the 1911 Nobel Prize in Chemistry for her discovery of the elements polonium and radium, \
using techniques she invented for isolating radioactive isotopes.

Under her direction, the world's first studies were conducted into the treatment of neoplasms by the \
use of radioactive isotopes. She founded the Curie Institute in Paris in 1920, and the Curie \
Institute in Warsaw in 1932; both remain major medical research centres. During World War I she \
developed mobile radiography units to provide X-ray services to field hospitals.
"""


def settle(app: QApplication, window: MainWindow, seconds: float = 60.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline and (window.engine is None or window.controller.working):
        app.processEvents()
        time.sleep(0.02)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)


def shoot(app: QApplication, folder: Path, name: str, question: str | None, document: Path | None) -> None:
    window = MainWindow(store=Store(folder / f"{name}.ini"), pool=QThreadPool())
    window.resize(1280, 800)
    window.show()
    settle(app, window)
    if document is not None:
        window.open_file(document)
        settle(app, window)
    if question:
        window.question.setText(question)
        window.ask()
        settle(app, window)
    window.grab().save(str(ROOT / "docs" / f"{name}.png"))
    window.close()


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#1b1b1d"),
        (QPalette.ColorRole.AlternateBase, "#26272a"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#2d2e31"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#3d7bd9"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
    ):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e73"))
    return palette


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication([])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        document = folder / "marie-curie.txt"
        document.write_text(DOCUMENT, encoding="utf-8")
        shoot(app, folder, "empty", None, None)
        shoot(app, folder, "answers", "Where was Marie Curie born?", document)
        shoot(app, folder, "no-answer", "What is the boiling point of water?", document)
        app.setPalette(dark_palette())
        shoot(app, folder, "dark", "Whom did she marry in 1895?", document)


if __name__ == "__main__":
    main()
