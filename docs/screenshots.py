"""Renders the README's screenshots with the real window and the bundled model.

``QT_QPA_PLATFORM=offscreen python docs/screenshots.py`` writes docs/*.png: the empty window, a
document with highlighted answers (headings marked, each answer with its location), a long
document being read (the share read and the read map), find in the document, the paste
confirmation, the settings and About dialogs, the no-answer case, the early stop on a settled
"no answer" (shown with a copy of the model whose threshold makes "no answer" win, as the shipped
model rarely says it), the same answers in a dark palette, and a real manual's pages and a scan of
them with the answer boxed on the page, and a web manual's code blocks unwrapped.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium
from fpdf import FPDF
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reading_assistant.core.paths import bundled_model_dir  # noqa: E402
from reading_assistant.gui.about import AboutDialog  # noqa: E402
from reading_assistant.gui.main_window import MainWindow  # noqa: E402
from reading_assistant.gui.settings import EngineSettings, Store  # noqa: E402
from reading_assistant.gui.settings_dialog import SettingsDialog  # noqa: E402
from reading_assistant.gui.theme import dark_palette  # noqa: E402

DOCUMENT = """# The Nobel Prize

Marie Curie was a Polish and naturalised-French physicist and chemist who conducted pioneering \
research on radioactivity. She was the first woman to win a Nobel Prize, the first person to win a \
Nobel Prize twice, and the only person to win a Nobel Prize in two scientific fields.

## Early life

Curie was born in Warsaw, in what was then the Kingdom of Poland, part of the Russian Empire. She \
studied at Warsaw's clandestine Flying University and began her practical scientific training in \
Warsaw. In 1891, aged 24, she followed her elder sister Bronisława to study in Paris, where she \
earned her higher degrees and conducted her subsequent scientific work.

## Paris

In 1895 she married the French physicist Pierre Curie, and she shared the 1903 Nobel Prize in \
Physics with him and with the physicist Henri Becquerel for their pioneering work developing the \
theory of "radioactivity", a term she coined. In 1906 Pierre Curie died in a Paris street accident. \
Marie won the 1911 Nobel Prize in Chemistry for her discovery of the elements polonium and radium, \
using techniques she invented for isolating radioactive isotopes.

## Institutes

Under her direction, the world's first studies were conducted into the treatment of neoplasms by the \
use of radioactive isotopes. She founded the Curie Institute in Paris in 1920, and the Curie \
Institute in Warsaw in 1932; both remain major medical research centres. During World War I she \
developed mobile radiography units to provide X-ray services to field hospitals.
"""
FILLER = (
    "The garden behind the old house was planted with roses, lavender and rows of beans. "
    "Every summer the river rose a little, and the weather turned before the harvest. "
) * 30 + "\n"


def settle(app: QApplication, window: MainWindow, seconds: float = 60.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline and (window.engine is None or window.controller.working):
        app.processEvents()
        time.sleep(0.02)
    pump(app)


def pump(app: QApplication, rounds: int = 20) -> None:
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.01)


def new_window(app: QApplication, folder: Path, name: str, model: Path | None = None) -> MainWindow:
    store = Store(folder / f"{name}.ini")
    if model is not None:
        store.save_engine_settings(EngineSettings(model_dir=str(model)))
    window = MainWindow(store=store, pool=QThreadPool())
    window.resize(1280, 800)
    window.show()
    settle(app, window)
    return window


def save(widget, name: str) -> None:
    widget.grab().save(str(ROOT / "docs" / f"{name}.png"))


def shoot(app: QApplication, folder: Path, name: str, question: str | None, document: Path | None) -> MainWindow:
    window = new_window(app, folder, name)
    if document is not None:
        window.open_file(document)
        settle(app, window)
    if question:
        window.question.setText(question)
        window.ask()
        settle(app, window)
    save(window, name)
    return window


def shoot_reading(app: QApplication, folder: Path, book: Path) -> None:
    """A long document part-read: the share read under the question, the read map beside the text."""
    window = new_window(app, folder, "reading")
    window.open_file(book)
    settle(app, window)
    window.question.setText("Where did Marie Curie found institutes?")
    window.ask()
    deadline = time.time() + 120
    while time.time() < deadline and window.progress.value() < 0.4 * max(1, window.progress.maximum()):
        app.processEvents()
        time.sleep(0.01)
    pump(app, 5)
    save(window, "reading")
    window.close()


def shoot_tools(app: QApplication, folder: Path, document: Path) -> None:
    window = new_window(app, folder, "find")
    window.open_file(document)
    settle(app, window)
    window.question.setText("Where was Marie Curie born?")
    window.ask()
    settle(app, window)
    window.find_bar.open_bar()
    window.find_bar.field.setText("Warsaw")
    window.find_bar.step(1)
    pump(app)
    save(window, "find")

    QGuiApplication.clipboard().setText("radium and polonium")
    window.document_view.setFocus()
    window.paste()
    pump(app)
    box = window.findChild(QMessageBox, "pasteDialog")
    save(box, "paste")
    box.reject()

    settings = SettingsDialog(window.controller.settings, window, window.store.reopens_last())
    settings.show()
    pump(app)
    save(settings, "settings")
    settings.close()

    about = AboutDialog(f"running on the {window.engine.device_name}", window, window.engine.model_dir)
    about.show()
    pump(app)
    save(about, "about")
    about.close()
    window.close()


def shoot_tabs(app: QApplication, folder: Path, document: Path, book: Path) -> None:
    """Two documents in tabs, the first with its outline open and its answers kept."""
    window = new_window(app, folder, "tabs")
    window.open_file(book)
    settle(app, window)
    window.open_file(document)
    settle(app, window)
    window.views.toggle_outline()
    window.views.splitter.setSizes([160, 900])
    pump(app)
    window.question.setText("When did she found the Curie Institute in Warsaw?")
    window.ask()
    settle(app, window)
    save(window, "tabs")
    window.close()


def shoot_early_stop(app: QApplication, folder: Path, book: Path) -> None:
    strict = folder / "strict-model"
    shutil.copytree(bundled_model_dir(), strict)
    config = json.loads((strict / "reading_assistant.json").read_text())
    # "No answer" wins for this off-topic question (the state, not the model, is shown), at a
    # probability a real read can show ("over 99%"; -1e9 saturated it to an unreal "100%").
    config["null_threshold"] = -30.0
    (strict / "reading_assistant.json").write_text(json.dumps(config))
    window = new_window(app, folder, "early-stop", strict)
    window.open_file(book)
    settle(app, window)
    window.question.setText("What is the boiling point of water?")
    window.ask()
    settle(app, window)
    save(window, "early-stop")
    window.close()


MANUAL = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")  # Debian's shared-mime-info


def scanned_copy(pdf_path: Path, pages: range, out: Path) -> Path:
    """Some pages of a PDF as a scanner gives them: grey pictures at 200 dpi, without a text layer."""
    source = pdfium.PdfDocument(str(pdf_path))
    scan = FPDF(format="A4")
    for index in pages:
        picture = source[index].render(scale=200 / 72).to_pil().convert("L")
        scan.add_page()
        scan.image(picture, x=0, y=0, w=scan.w, h=scan.h)
    source.close()
    scan.output(str(out))
    return out


def shoot_pages(app: QApplication, folder: Path) -> None:
    """A real manual's pages with the answer boxed on its page, its outline beside them; and a
    scanned copy of its first pages, read by OCR, with the answer boxed on the scan."""
    if not MANUAL.is_file():
        print(f"skipped pages.png and scan.png: {MANUAL} is not here (apt install shared-mime-info)")
        return
    for name, document, question in (
        ("pages", MANUAL, "What is the glob pattern for?"),
        ("scan", scanned_copy(MANUAL, range(2), folder / "scanned-spec.pdf"), "Who wrote the specification?"),
    ):
        window = new_window(app, folder, name)
        window.resize(1500, 950)
        window.open_file(document)
        settle(app, window, 300)
        if window.views.outline_button.isVisible():
            window.views.outline_button.setChecked(True)
        window.question.setText(question)
        window.ask()
        settle(app, window)
        window.controller.choose(0)  # as a reader clicks the first answer: its page comes into view
        pump(app, 60)
        save(window, name)
        window.close()


HTML_MANUAL = Path("/usr/share/doc/bzip2/manual.html")  # Debian's bzip2-doc


def shoot_code(app: QApplication, folder: Path) -> None:
    """A web manual's code: a monospace table, unwrapped (the view scrolls sideways where a line
    is wider than the window), beside prose that wraps."""
    if not HTML_MANUAL.is_file():
        print(f"skipped code.png: {HTML_MANUAL} is not here (apt install bzip2-doc)")
        return
    window = new_window(app, folder, "code")
    window.resize(1100, 800)
    window.open_file(HTML_MANUAL)
    settle(app, window)
    window.question.setText("What can you call after BZ2_bzWrite returns an error?")
    window.ask()
    settle(app, window)
    text = window.document.text
    window.text_view.show_at_top(text.rfind("\n\n", 0, text.index("(you could go directly to BZ2_bzWriteClose")) - 400)
    pump(app)
    save(window, "code")
    window.close()


LIBRARY_SHELF = (
    Path("/usr/share/common-licenses/Apache-2.0"),
    Path("/usr/share/common-licenses/MPL-2.0"),
    HTML_MANUAL,
    Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
)


def shoot_library(app: QApplication, folder: Path, document: Path) -> None:
    """A library of a few documents in the side panel, indexed; a question asked of all of them."""
    shelf = folder / "shelf"
    shelf.mkdir()
    shutil.copy(document, shelf)
    for path in LIBRARY_SHELF:
        if path.is_file():
            shutil.copy(path, shelf / (path.name if path.suffix in (".html", ".pdf") else f"{path.name.lower()}.txt"))
    window = new_window(app, folder, "library")
    window.library.add([shelf])
    manager = window.library.manager
    files = len(list(shelf.iterdir()))
    deadline = time.time() + 600
    while time.time() < deadline and (manager._indexing is not None or manager.counts().get("indexed", 0) < files):
        pump(app)
    window.question.setText("When did Marie Curie found the Curie Institute in Warsaw?")
    window.library.ask()
    deadline = time.time() + 120
    while time.time() < deadline and (window.document is None or window.document.format != "library"):
        pump(app)
    settle(app, window)
    save(window, "library")
    window.close()


def main() -> None:
    # A 1920x1080 screen, so the 1280x800 window is not clamped to the offscreen default (800x600).
    screen = Path(tempfile.mkdtemp()) / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "docs", "x": 0, "y": 0, "width": 1920, "height": 1080}]}))
    os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={screen}")
    # The windows' library lives in a folder of this run's own, not in the developer's data folder.
    os.environ["XDG_DATA_HOME"] = str(screen.parent / "data")
    app = QApplication([])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        document = folder / "marie-curie.md"
        document.write_text(DOCUMENT, encoding="utf-8")
        book = folder / "curie-and-gardens.txt"
        book.write_text((DOCUMENT + "\n" + FILLER) * 40, encoding="utf-8")
        shoot(app, folder, "empty", None, None).close()
        shoot(app, folder, "answers", "Where was Marie Curie born?", document).close()
        shoot(app, folder, "no-answer", "What is the boiling point of water?", document).close()
        shoot_reading(app, folder, book)
        shoot_tools(app, folder, document)
        shoot_tabs(app, folder, document, book)
        shoot_early_stop(app, folder, book)
        shoot_pages(app, folder)
        shoot_code(app, folder)
        shoot_library(app, folder, document)
        app.setPalette(dark_palette())  # as View > Theme > Dark sets it
        shoot(app, folder, "dark", "Whom did she marry in 1895?", document).close()


if __name__ == "__main__":
    main()
