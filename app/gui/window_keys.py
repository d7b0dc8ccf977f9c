"""Keys that belong to the window wherever the focus is.

Qt asks the focused widget first (a ShortcutOverride event) whether it wants a key for itself, and
a text box says yes to its own bindings: with the X11 key scheme a line edit takes Ctrl+E as "end
of line", so Export did nothing while the question box had the focus. This filter answers no, for
this window's widgets and the window-wide keys only; the keys that mean something where the focus
is (Ctrl+V, Ctrl+C, Esc, Up/Down, Enter) are not among them and keep their meaning.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QWidget


class WindowKeys(QObject):
    """Lets ``actions``' shortcuts through to ``window`` whatever widget in it has the focus."""

    def __init__(self, window: QWidget, actions: Iterable[QAction]) -> None:
        super().__init__(window)
        self._window = window
        self._keys = {sequence[0] for action in actions for sequence in action.shortcuts() if sequence.count() == 1}
        # The focused widget is asked before its own filters run: only an application-wide filter
        # comes first.
        application = QCoreApplication.instance()
        if application is not None:
            application.installEventFilter(self)  # removed by Qt when this filter is destroyed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.keyCombination() in self._keys
            and isinstance(watched, QWidget)
            and watched.window() is self._window
        ):
            event.ignore()  # not the widget's: the window's shortcut takes the key
            return True
        return False
