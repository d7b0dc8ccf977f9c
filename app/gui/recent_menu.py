"""File > Open Recent: the recent files, newest first, each with its folder, and Clear Menu; it keeps
File > Reopen naming the newest one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from .settings import Store


def where(path: Path) -> str:
    """A file's folder as a reader knows it: '~/papers', '~', or the whole path outside the home."""
    home, folder = Path.home(), path.parent
    try:
        return "~/" + str(folder.relative_to(home)) if folder != home else "~"
    except ValueError:
        return str(folder)


class RecentMenu(QMenu):
    open_requested = Signal(Path)  # the reader chose a recent file

    def __init__(self, store: Store, reopen: QAction, parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self.store = store
        self.reopen = reopen
        self.setToolTipsVisible(True)

    def fill(self, files: list[str]) -> None:
        self.clear()
        for path in files:
            action = self.addAction(f"{Path(path).name}  —  {where(Path(path))}".replace("&", "&&"))
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_requested.emit(Path(p)))
        if files:
            self.addSeparator()
            self.addAction("Clear Menu", self._clear)
        self.setEnabled(bool(files))
        last = files[0] if files else None
        self.reopen.setEnabled(last is not None)
        self.reopen.setText(f"&Reopen {Path(last).name.replace('&', '&&')}" if last else "&Reopen Last Document")
        self.reopen.setToolTip(last or "")
        self.reopen.setData(last)

    def paths(self) -> list[str]:
        return [action.data() for action in self.actions() if action.data()]

    def _clear(self) -> None:
        for path in self.store.recent_files():
            self.store.forget_recent_file(path)
        self.fill([])
