"""The answers list: rank, confidence with a bar, the answer, where it is, and its evidence sentence."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QContextMenuEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.decoding import Answer
from ..core.evidence import evidence, no_answer_summary, one_line, percent
from ..core.reading import Prediction
from .colors import PALETTE_EVENTS

# Words longer than this (URLs, chemical names) get break opportunities, so no card is wider than the list.
LONG_WORD = re.compile(r"\S{24,}")
ZERO_WIDTH_SPACE = "\u200b"


def breakable(text: str) -> str:
    """HTML-escaped ``text`` whose very long words may wrap."""

    def split(match: re.Match) -> str:
        word = match.group(0)
        return ZERO_WIDTH_SPACE.join(word[i : i + 12] for i in range(0, len(word), 12))

    return html.escape(LONG_WORD.sub(split, text))


def wrapping_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    # The list's width decides the card's width, never the text.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(1)
    return label


class AnswerCard(QWidget):
    def __init__(self, rank: int, answer: Answer, evidence: str, location: str | None, guess: bool) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        confidence = percent(answer.score)
        tag = f"guess · {confidence}" if guess else confidence
        self.title = wrapping_label(f"<b>{rank}. {breakable(one_line(answer.text))}</b>&nbsp;&nbsp;{tag}")
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(round(1000 * answer.score))
        bar.setTextVisible(False)
        bar.setFixedHeight(6)
        bar.setAccessibleName(f"Confidence {confidence}")
        where = f"<b>{html.escape(location)}</b> · " if location else ""
        self.context = wrapping_label(f"{where}<i>{evidence}</i>")
        for widget in (self.title, bar, self.context):
            layout.addWidget(widget)


def evidence_html(text: str, answer: Answer) -> str:
    """The evidence sentence with the answer in bold ("…" where the core cut it)."""
    words = evidence(text, answer.start, answer.end)
    return f"{breakable(words.before)}<b>{breakable(words.answer)}</b>{breakable(words.after)}"


class AnswerList(QListWidget):
    """The cards; the context menu offers copy and export."""

    def __init__(self, panel: AnswersPanel) -> None:
        super().__init__()
        self.panel = panel

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        if item is not None:
            self.setCurrentItem(item)
        menu = QMenu(self)
        for action in self.panel.menu_actions():
            menu.addAction(action)
        menu.exec(event.globalPos())


class AnswersPanel(QWidget):
    answer_chosen = Signal(int)  # the reader chose this row (click, keys); not sent when the window selects
    read_rest_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.banner = wrapping_label("")
        self.banner.setVisible(False)
        self.banner.setObjectName("noAnswerBanner")
        # A word beside the answers: the question is not in English, a verdict changed after Read the Rest.
        self.note = wrapping_label("")
        self.note.setVisible(False)
        self.note.setObjectName("answersNote")
        self.read_rest_label = wrapping_label("")
        self.read_rest_button = QPushButton("Read the Rest")
        self.read_rest_button.setToolTip("Read the whole document for this question (Ctrl+R)")
        self.read_rest_button.clicked.connect(self.read_rest_requested)
        self.read_rest_row = QWidget()
        row = QHBoxLayout(self.read_rest_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.read_rest_label, 1)
        row.addWidget(self.read_rest_button)
        self.read_rest_row.setVisible(False)
        self.list = AnswerList(self)
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setAccessibleName("Answers")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.currentRowChanged.connect(self._row_changed)
        # The list's own width changes when its scroll bar comes and goes: the cards follow.
        self.list.viewport().installEventFilter(self)
        # A click on the answer already selected still brings it back into view.
        self.list.itemClicked.connect(lambda item: self._row_changed(self.list.row(item)))
        self.placeholder = wrapping_label(
            "Answers appear here, best first. Click one to find it in the document; F3 steps through them."
        )
        for widget in (self.note, self.banner, self.placeholder):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
            widget.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.note)
        layout.addWidget(self.banner)
        layout.addWidget(self.read_rest_row)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.list, 1)
        layout.addStretch(1)  # holds the placeholder at the top while the list is hidden
        self._layout = layout
        self.list.setVisible(False)  # an empty frame says nothing: the placeholder speaks until answers come
        self.answers: list[Answer] = []
        self._updating = False
        self._menu_actions: list[QAction] = []
        self._style_selection()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in PALETTE_EVENTS and self._tint != self.palette().color(QPalette.ColorRole.Highlight):
            self._style_selection()  # View > Theme: the selected card's tint follows

    def _style_selection(self) -> None:
        """A tinted card with a bar on its left: the text keeps its own colour on light and dark palettes."""
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        self._tint = QColor(highlight)
        r, g, b = highlight.red(), highlight.green(), highlight.blue()
        self.list.setStyleSheet(
            f"QListWidget::item:selected {{ background: rgba({r}, {g}, {b}, 46); "
            f"border-left: 4px solid rgb({r}, {g}, {b}); }}"
            f"QListWidget::item:hover:!selected {{ background: rgba({r}, {g}, {b}, 18); }}"
        )

    def set_menu_actions(self, actions: list[QAction]) -> None:
        self._menu_actions = actions

    def menu_actions(self) -> list[QAction]:
        return self._menu_actions

    def clear(self) -> None:
        self._updating = True
        self.answers = []
        self.list.clear()
        self._updating = False
        self.banner.setVisible(False)
        self.placeholder.setVisible(True)
        self._show_list(False)

    def reset(self) -> None:
        """No answers, no note, no Read the Rest: a new question, another document, or none."""
        self.clear()
        self.set_read_rest(False)
        self.set_note("")

    def show_prediction(
        self,
        prediction: Prediction,
        text: str,
        locate: Callable[[int], str | None] | None = None,
        library: bool = False,
    ) -> None:
        """``locate(offset)`` gives a page, section or line label for each answer; ``library``: the
        text is passages of the whole library (its verdict is about the library)."""
        scroll = self.list.verticalScrollBar().value()
        self.clear()
        self._updating = True
        self.answers = list(prediction.answers)
        if not prediction.has_answer:
            guesses = " The best guesses below are unlikely to be right." if prediction.answers else ""
            summary = no_answer_summary(prediction.no_answer_score, library)
            self.banner.setText(f"<b>{html.escape(summary)}.</b>{guesses}")
            self.banner.setVisible(True)
        elif not prediction.answers:
            self.banner.setText("<b>No answer found.</b>")
            self.banner.setVisible(True)
        for rank, answer in enumerate(prediction.answers, 1):
            location = locate(answer.start) if locate else None
            card = AnswerCard(rank, answer, evidence_html(text, answer), location, guess=not prediction.has_answer)
            item = QListWidgetItem()
            item.setToolTip(one_line(answer.text))
            self.list.addItem(item)
            self.list.setItemWidget(item, card)
        self.placeholder.setVisible(not prediction.answers and prediction.has_answer)
        self._show_list(bool(prediction.answers))
        self._fit_cards()
        self.list.verticalScrollBar().setValue(scroll)
        self._updating = False

    def _show_list(self, visible: bool) -> None:
        self.list.setVisible(visible)
        self._layout.setStretch(self._layout.count() - 1, 0 if visible else 1)

    def set_note(self, message: str) -> None:
        self.note.setText(f"<b>{html.escape(message)}</b>" if message else "")
        self.note.setVisible(bool(message))

    def set_read_rest(self, visible: bool, message: str = "") -> None:
        self.read_rest_label.setText(message)
        self.read_rest_row.setVisible(visible)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_cards()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_cards()
        return super().eventFilter(watched, event)

    def _fit_cards(self) -> None:
        """Word-wrapped cards are as tall as the list's width makes them, and never wider."""
        width = max(1, self.list.viewport().width() - 2 * self.list.spacing())
        for row in range(self.list.count()):
            item = self.list.item(row)
            card = self.list.itemWidget(item)
            card.setFixedWidth(width)
            item.setSizeHint(QSize(width, card.layout().totalHeightForWidth(width)))

    def select(self, row: int) -> None:
        """Select ``row`` (-1: none) as the window decided; the reader's choices come back as answer_chosen."""
        self._updating = True
        if 0 <= row < len(self.answers):
            self.list.setCurrentRow(row)
            self.list.scrollToItem(self.list.item(row))
        else:
            self.list.setCurrentRow(-1)
            self.list.clearSelection()
        self._updating = False

    def _row_changed(self, row: int) -> None:
        if not self._updating and 0 <= row < len(self.answers):
            self.answer_chosen.emit(row)
