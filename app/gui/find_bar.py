"""Find in the document: a bar below it, over any document view that can search (``Searchable``).
Enter and Shift+Enter step, Esc closes."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from .document_display import Searchable
from .words import plural


class FindBar(QWidget):
    """Find in the document: Enter and Shift+Enter step, Esc closes."""

    closed = Signal()

    def __init__(self, view: Searchable) -> None:
        super().__init__()
        self.view = view
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        self.field = QLineEdit()
        self.field.setPlaceholderText("Find in the document")
        self.field.setClearButtonEnabled(True)
        self.field.setAccessibleName("Find in the document")
        self.count = QLabel("")
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance("10,000 of 10,000"))
        self.previous_button = QToolButton()
        self.previous_button.setText("↑")
        self.previous_button.setToolTip("Previous match (Shift+Enter, Ctrl+Shift+G)")
        self.next_button = QToolButton()
        self.next_button.setText("↓")
        self.next_button.setToolTip("Next match (Enter, Ctrl+G)")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Close (Esc)")
        label = QLabel("Find:")
        label.setBuddy(self.field)
        for widget in (label, self.field, self.count, self.previous_button, self.next_button, self.close_button):
            layout.addWidget(widget, 1 if widget is self.field else 0)
        self.field.textChanged.connect(self._search)
        self.field.returnPressed.connect(lambda: self.step(1))
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.close_button.clicked.connect(self.close_bar)
        self.field.installEventFilter(self)
        view.find_changed.connect(lambda: self._show_count(-1))
        view.display_ready.connect(lambda: self._show_count(-1))
        self.setVisible(False)

    def open_bar(self) -> None:
        selected = self.view.selected_text()
        if selected and len(selected) < 100:
            self.field.setText(selected)
        self.setVisible(True)
        self.field.setFocus()
        self.field.selectAll()
        self._search(self.field.text())

    def close_bar(self) -> None:
        self.view.clear_find()
        self.count.setText("")
        self.setVisible(False)
        self.view.setFocus()
        self.closed.emit()

    def step(self, delta: int) -> None:
        if not self.isVisible():
            self.open_bar()
            return
        if self.view.find_pending:
            return  # the matches are not in yet; the count says "Searching…"
        index = self.view.find_step(delta)
        self._show_count(index)

    def _search(self, query: str) -> None:
        self.view.set_find(query)
        self._show_count(-1)

    def _show_count(self, index: int) -> None:
        total = self.view.find_count
        if not self.field.text():
            self.count.setText("")
        elif self.view.find_pending:
            self.count.setText("Searching…")
        elif self.view.find_error:
            self.count.setText("Not searched")
            self.count.setToolTip(self.view.find_error)
        elif total == 0:
            self.count.setText("No matches")
        elif index < 0:
            self.count.setText(plural(total, "match", "matches"))
        else:
            self.count.setText(f"{index + 1:,} of {total:,}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field:
            key_event = event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            if key_event and event.key() == Qt.Key.Key_Escape:
                if event.type() == QEvent.Type.ShortcutOverride:
                    event.accept()  # Esc closes the bar here; it does not cancel the question
                else:
                    self.close_bar()
                return True
            if (
                event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            ):
                self.step(-1)
                return True
        return super().eventFilter(watched, event)
