"""Help > About: the version, the model in use in plain words (its card's "In plain words" section,
its name and size), the full model card a tab away, and the licences."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from .. import __version__
from ..core.model_folder import GPU_MODEL_NAME
from ..core.paths import bundled_model_dir

# What the app runs on, with the licence each project states (its package metadata may be terse).
THIRD_PARTY = (
    ("PySide6-Essentials", "Qt for Python", "LGPL-3.0-only (Qt and PySide6)"),
    ("shiboken6", "Qt for Python bindings", "LGPL-3.0-only"),
    ("onnxruntime", "ONNX Runtime", "MIT"),
    ("onnxruntime-directml", "ONNX Runtime with DirectML (Windows)", "MIT"),
    ("tokenizers", "Hugging Face tokenizers", "Apache-2.0"),
    ("numpy", "NumPy", "BSD-3-Clause"),
    ("platformdirs", "platformdirs", "MIT"),
    ("pypdfium2", "pypdfium2 and PDFium", "Apache-2.0 or BSD-3-Clause (PDFium: BSD-3-Clause)"),
    ("charset-normalizer", "charset-normalizer", "MIT"),
)
MODEL_NOTE = (
    "The bundled model is all-MiniLM-L6-v2 (Apache-2.0) fine-tuned on SQuAD v1.1 (CC BY-SA 4.0); see the Model tab."
)


def _frozen_dir() -> Path | None:
    folder = getattr(sys, "_MEIPASS", None)
    return Path(folder) if folder else None


def licence_text() -> str:
    """The app's LICENSE: beside a frozen app, in the installed package's metadata, or in a checkout."""
    candidates = []
    frozen = _frozen_dir()
    if frozen is not None:
        candidates.append(frozen / "LICENSE")
    candidates.append(Path(__file__).resolve().parents[2] / "LICENSE")
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    try:
        distribution = importlib.metadata.distribution("reading-assistant")
        for file in distribution.files or ():
            if file.name.upper().startswith("LICEN"):
                return file.read_text(encoding="utf-8")
    except (importlib.metadata.PackageNotFoundError, OSError):
        pass
    return "MIT License (the LICENSE file was not found beside the app)."


def third_party_text() -> str:
    """The bundle's THIRD-PARTY-NOTICES.txt when frozen; else what is installed, with its licence."""
    frozen = _frozen_dir()
    if frozen is not None and (frozen / "THIRD-PARTY-NOTICES.txt").is_file():
        return (frozen / "THIRD-PARTY-NOTICES.txt").read_text(encoding="utf-8", errors="replace")
    lines = [
        "Reading Assistant runs on the following software; each keeps its own licence.",
        "",
    ]
    for package, title, licence in THIRD_PARTY:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
        lines.append(f"- {title} ({package} {version}): {licence}")
    lines.append(f"- Python {sys.version.split()[0]}: PSF-2.0")
    lines += ["", MODEL_NOTE, "", "The frozen app ships the full texts in THIRD-PARTY-NOTICES.txt."]
    return "\n".join(lines)


PLAIN_WORDS = "## In plain words"


def model_card(model_dir: Path | None = None) -> str:
    card = (model_dir or bundled_model_dir()) / "README.md"
    try:
        return card.read_text(encoding="utf-8")
    except OSError:
        return "This model has no model card."


def plain_words(card: str) -> str:
    """The card's section for readers ("## In plain words", up to the next section); "" without one."""
    start = card.find(PLAIN_WORDS)
    if start < 0:
        return ""
    body = card[start + len(PLAIN_WORDS) :]
    end = body.find("\n## ")
    return (body if end < 0 else body[:end]).strip()


def model_summary(model_dir: Path, in_use: str) -> str:
    """Markdown: the model's name, size and where it runs, then its card's plain words."""
    card = model_card(model_dir)
    onnx = [path for path in sorted(model_dir.glob("*.onnx")) if path.name != GPU_MODEL_NAME]  # a GPU's copy
    size = f", {sum(f.stat().st_size for f in onnx) / 2**20:.1f} MB" if onnx else ""
    title = f"**{model_dir.name}**{size}" + (f", {in_use}" if in_use else "")
    words = plain_words(card) or "This model's card says nothing for readers; the full card is in the next tab."
    return f"{title}\n\n{words}"


class AboutDialog(QDialog):
    def __init__(self, model: str = "", parent: QWidget | None = None, model_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Reading Assistant")
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        heading = QLabel(
            f"<h2>Reading Assistant {__version__}</h2>"
            "<p>Answers questions about a document with an extractive question-answering model, "
            "entirely on this computer: nothing you open or ask leaves it.</p>"
        )
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.tabs = QTabWidget()
        folder = model_dir or bundled_model_dir()
        self.summary = QTextBrowser()
        self.summary.setMarkdown(model_summary(folder, model))
        self.card = QTextBrowser()
        self.card.setOpenExternalLinks(False)
        self.card.setMarkdown(model_card(folder))
        self.licence = QTextBrowser()
        self.licence.setPlainText(licence_text())
        self.third_party = QTextBrowser()
        self.third_party.setPlainText(third_party_text())
        self.tabs.addTab(self.summary, "&Model")
        self.tabs.addTab(self.card, "Model &Card")
        self.tabs.addTab(self.licence, "&Licence")
        self.tabs.addTab(self.third_party, "&Third-party software")
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
