"""The answers list: rank, confidence with a bar, the answer, and its evidence sentence."""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QProgressBar, QVBoxLayout, QWidget

from reading_assistant.core.decoding import Answer
from reading_assistant.core.engine import Prediction
from reading_assistant.core.evidence import evidence, no_answer_summary


class AnswerCard(QWidget):
    def __init__(self, rank: int, answer: Answer, evidence: str, location: str | None, guess: bool) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        label = " · best guess" if guess else ""
        title = QLabel(f"<b>{rank}. {html.escape(answer.text)}</b>&nbsp;&nbsp;{100 * answer.score:.0f}%{label}")
        title.setWordWrap(True)
        title.setTextFormat(Qt.TextFormat.RichText)
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(round(1000 * answer.score))
        bar.setTextVisible(False)
        bar.setFixedHeight(6)
        bar.setAccessibleName(f"confidence {100 * answer.score:.0f} percent")
        where = f"{html.escape(location)}: " if location else ""
        context = QLabel(f"{where}<i>{evidence}</i>")
        context.setWordWrap(True)
        context.setTextFormat(Qt.TextFormat.RichText)
        for widget in (title, bar, context):
            layout.addWidget(widget)


def evidence_html(text: str, answer: Answer) -> str:
    """The evidence sentence with the answer in bold."""
    words = evidence(text, answer.start, answer.end)
    return f"{html.escape(words.before)}<b>{html.escape(words.answer)}</b>{html.escape(words.after)}"


class AnswersPanel(QWidget):
    answer_chosen = Signal(int)  # index in the current answers

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.banner.setObjectName("noAnswerBanner")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setAccessibleName("Answers")
        self.list.currentRowChanged.connect(self._row_changed)
        self.placeholder = QLabel("Answers appear here, best first. Click one to find it in the document; F3 steps.")
        self.placeholder.setWordWrap(True)
        self.placeholder.setEnabled(False)
        layout.addWidget(self.banner)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.list, 1)
        self.answers: list[Answer] = []

    def clear(self) -> None:
        self.answers = []
        self.list.clear()
        self.banner.setVisible(False)
        self.placeholder.setVisible(True)

    def show_prediction(self, prediction: Prediction, text: str, locate=None) -> None:
        """``locate(offset)`` may give a page or section label for each answer."""
        self.clear()
        self.answers = list(prediction.answers)
        if not prediction.has_answer:
            self.banner.setText(
                f"<b>{html.escape(no_answer_summary(prediction.no_answer_score))}</b>. The best guesses are below."
            )
            self.banner.setVisible(True)
        elif not prediction.answers:
            self.banner.setText("<b>No answer found.</b>")
            self.banner.setVisible(True)
        for rank, answer in enumerate(prediction.answers, 1):
            location = locate(answer.start) if locate else None
            card = AnswerCard(rank, answer, evidence_html(text, answer), location, guess=not prediction.has_answer)
            item = QListWidgetItem()
            item.setToolTip(answer.text)
            self.list.addItem(item)
            self.list.setItemWidget(item, card)
        self.placeholder.setVisible(not prediction.answers and prediction.has_answer)
        self._fit_cards()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_cards()

    def _fit_cards(self) -> None:
        """Word-wrapped cards are as tall as the list's width makes them."""
        width = self.list.viewport().width() - 2 * self.list.spacing()
        for row in range(self.list.count()):
            item = self.list.item(row)
            card = self.list.itemWidget(item)
            item.setSizeHint(QSize(width, card.layout().totalHeightForWidth(width)))

    def select(self, index: int) -> None:
        if self.answers:
            self.list.setCurrentRow(index % len(self.answers))

    def step(self, delta: int) -> None:
        """F3 / Shift+F3: the next or previous answer, wrapping around."""
        if self.answers:
            row = self.list.currentRow()
            self.select(0 if row < 0 else row + delta)

    def _row_changed(self, row: int) -> None:
        if 0 <= row < len(self.answers):
            self.answer_chosen.emit(row)
