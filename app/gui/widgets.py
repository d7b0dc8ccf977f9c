"""The window's own widgets: a label that elides, a splitter handle to grab, the empty state, the
question box with its history, and the shortcuts table."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import QAction, QIcon, QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QSplitterHandle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.documents import supported_suffixes
from ..core.paths import resource_path
from .colors import blend

EMPTY_STATE = "Drop a document here, open one, or paste text"


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "reading-assistant.svg")))


def fit_to_screen(geometry: QRect, available: QRect) -> QRect:
    """``geometry`` no larger than ``available`` and moved inside it (a restored or default window
    must not open larger than the screen, e.g. at a scale factor of 2)."""
    width = min(geometry.width(), available.width())
    height = min(geometry.height(), available.height())
    left = min(max(geometry.left(), available.left()), available.right() + 1 - width)
    top = min(max(geometry.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


def set_secondary(label: QLabel) -> None:
    """Quieter than body text yet above 4.5:1 contrast (a disabled label is about 1.6:1)."""
    palette = label.palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    palette.setColor(QPalette.ColorRole.WindowText, blend(text, palette.color(QPalette.ColorRole.Window), 0.78))
    label.setPalette(palette)


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" instead of pushing its neighbours (the full text is its tooltip)."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if text else "")
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 8, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("Mo…"), super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(1, self.width())))


class GripHandle(QSplitterHandle):
    """A splitter handle that shows where to grab it."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = blend(
            self.palette().color(QPalette.ColorRole.WindowText), self.palette().color(QPalette.ColorRole.Window), 0.45
        )
        painter.setBrush(color)
        painter.setPen(Qt.PenStyle.NoPen)
        middle_x, middle_y = self.width() / 2, self.height() / 2
        for step in (-8, 0, 8):
            painter.drawEllipse(QPointF(middle_x, middle_y + step), 1.6, 1.6)


class GripSplitter(QSplitter):
    def createHandle(self) -> QSplitterHandle:
        return GripHandle(self.orientation(), self)


class EmptyState(QWidget):
    """What a new window shows: how to bring a document."""

    def __init__(self, actions: list[QAction]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel(f"<h2>{EMPTY_STATE}</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        formats = ", ".join(s.lstrip(".") for s in supported_suffixes())
        self.hint = QLabel(f"Then ask a question on the right. Reads {formats}. Nothing leaves this computer.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        set_secondary(self.hint)
        # One above the other: the pane stays narrow enough for a small window or a scale factor of 2.
        buttons = QVBoxLayout()
        buttons.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.buttons: list[QPushButton] = []
        for action in actions:
            button = QPushButton(action.icon(), action.text().replace("&", "").rstrip("."))
            # Typing goes to the question box: a space must never press one of these.
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setAutoDefault(False)
            button.clicked.connect(action.trigger)
            action.changed.connect(lambda button=button, action=action: self._sync(button, action))
            self._sync(button, action)
            button.setMinimumWidth(12 * button.fontMetrics().horizontalAdvance("M"))
            buttons.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.buttons.append(button)
        for widget in (icon, title, self.hint):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addStretch(3)

    @staticmethod
    def _sync(button: QPushButton, action: QAction) -> None:
        text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".")
        button.setText(text if len(text) <= 32 else text[:31] + "…")
        button.setToolTip(action.toolTip())
        button.setVisible(action.isVisible() and action.isEnabled())


class QuestionBox(QLineEdit):
    """Enter asks; Up and Down recall earlier questions, kept across restarts."""

    def __init__(self, history: list[str] | None = None) -> None:
        super().__init__()
        self.setPlaceholderText("Ask a question about the document…")
        self.setClearButtonEnabled(True)
        self.setAccessibleName("Question")
        self.history: list[str] = []
        self._recall = 0
        self.set_history(history or [])

    def set_history(self, history: list[str]) -> None:
        self.history = list(history)
        self._recall = len(self.history)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.history:
            step = -1 if event.key() == Qt.Key.Key_Up else 1
            self._recall = max(0, min(len(self.history), self._recall + step))
            self.setText(self.history[self._recall] if self._recall < len(self.history) else "")
            return
        super().keyPressEvent(event)


class ShortcutsDialog(QDialog):
    """Help > Keyboard Shortcuts: every action that has one, from the actions themselves."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        layout = QVBoxLayout(self)
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (name, keys) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(name))
            table.setItem(row, 1, QTableWidgetItem(keys))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table = table
        self.resize(460, 520)
