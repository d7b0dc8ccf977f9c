"""Keys that belong to the window wherever the focus is.

Qt asks the focused widget first (a ShortcutOverride event) whether it wants a key for itself, and
a text box says yes to its own bindings: with the X11 key scheme a line edit takes Ctrl+E as "end
of line", so Export did nothing while the question box had the focus. This filter answers no, for
the window-wide keys only, on the widgets that take the focus (a filter on each: an
application-wide one would make every event of the app wait for the interpreter, which a worker
thread may hold); the keys that mean something where the focus is (Ctrl+V, Ctrl+C, Esc, Up/Down,
Enter) are not among them and keep their meaning.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QWidget


class WindowKeys(QObject):
    """Lets ``actions``' shortcuts through to ``window`` whichever of ``widgets`` has the focus."""

    def __init__(self, window: QWidget, actions: Iterable[QAction], widgets: Iterable[QWidget] = ()) -> None:
        super().__init__(window)
        self._keys = {sequence[0] for action in actions for sequence in action.shortcuts() if sequence.count() == 1}
        for widget in widgets:
            self.watch(widget)

    def watch(self, widget: QWidget) -> None:
        """Turn down ``widget``'s claims on the window's keys. A widget claims keys in its own event
        handler, which runs after every filter; a filter installed later runs first, so a widget
        with a claiming filter of its own is watched after it has it."""
        widget.removeEventFilter(self)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.keyCombination() in self._keys
        ):
            event.ignore()  # not the widget's: the window's shortcut takes the key
            return True
        return False
