"""Copying and exporting the answers shown: one answer to the clipboard (with its evidence and
place, or not), or all of them to a file (Markdown, CSV or JSON); ``export`` makes the texts."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.documents import Document
from ..core.reading import Prediction, ReadingEngine
from . import export, pasted
from .answers_panel import AnswersPanel
from .controller import ReadingController


class ExportHost(Protocol):
    """What the exporter uses of the window (``MainWindow``)."""

    controller: ReadingController
    answers: AnswersPanel

    @property
    def document(self) -> Document | None: ...

    @property
    def prediction(self) -> Prediction | None: ...

    @property
    def engine(self) -> ReadingEngine | None: ...

    def _locate(self, offset: int) -> str: ...

    def _show_status(self, message: str, milliseconds: int = 0) -> None: ...

    def _show_error(self, title: str, message: str) -> None: ...


class AnswerExporter:
    def __init__(self, window: ExportHost) -> None:
        self.window = window

    def data(self) -> export.Export | None:
        """The answers shown, with what an export says of them; None before there are any."""
        window = self.window
        prediction, document = window.prediction, window.document
        if prediction is None or document is None or not prediction.answers:
            return None
        model = window.engine.name if window.engine is not None else ""
        return export.collect(prediction, document, window._locate, model, self.own_file())

    def own_file(self) -> Path | None:
        """The reader's file of the open document; None for a paste (its copy is the app's)."""
        path = self.window.controller.document_path
        return None if path is None or pasted.is_pasted(path) else path

    def copy_answer(self, with_evidence: bool) -> None:
        data = self.data()
        if data is None:
            self.window._show_status("There is no answer to copy yet.", 3000)
            return
        row = max(0, self.window.answers.list.currentRow())
        QGuiApplication.clipboard().setText(export.answer_text(data, row, with_evidence))
        self.window._show_status("Answer copied." if not with_evidence else "Answer and evidence copied.", 3000)

    def export_answers(self) -> None:
        data = self.data()
        if data is None:
            self.window._show_status("Ask a question first: there are no answers to export.", 4000)
            return
        folder = own.parent if (own := self.own_file()) is not None else Path.home()
        stem = Path(data.document).stem or "answers"
        filters = ";;".join(export.FORMATS.values())
        path, chosen = QFileDialog.getSaveFileName(
            self.parent_widget(), "Export answers", str(folder / f"{stem} - answers.md"), filters
        )
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            for suffix, name in export.FORMATS.items():
                if name == chosen:
                    target = target.with_suffix(f".{suffix}")
        try:
            written = export.write(data, target)
        except OSError as error:
            self.window._show_error("The answers could not be saved", f"{target}: {error.strerror or error}")
            return
        self.window._show_status(f"Answers exported to {written.name}.", 5000)

    def parent_widget(self) -> QWidget | None:
        return self.window if isinstance(self.window, QWidget) else None
