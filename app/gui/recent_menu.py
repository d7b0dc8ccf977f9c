"""File > Open Recent: the recent documents, newest first, each file with its folder and each paste
with its time, and Clear Menu (which forgets them: their places, and the copies of pastes); it
keeps File > Reopen naming the newest one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from . import pasted
from .settings import Store


def where(path: Path) -> str:
    """A file's folder as a reader knows it: '~/papers', '~', or the whole path outside the home."""
    home, folder = Path.home(), path.parent
    try:
        return "~/" + str(folder.relative_to(home)) if folder != home else "~"
    except ValueError:
        return str(folder)


def short_name(path: str) -> str:
    """What a recent document is called: its file's name, or when it was pasted."""
    return pasted.label(path) if pasted.is_pasted(path) else Path(path).name


def entry_text(path: str) -> str:
    """A Recent entry: the name and the folder ('notes.txt  —  ~/papers'); a paste by its time."""
    return short_name(path) if pasted.is_pasted(path) else f"{Path(path).name}  —  {where(Path(path))}"


class RecentMenu(QMenu):
    open_requested = Signal(Path)  # the reader chose a recent file

    def __init__(self, store: Store, reopen: QAction, parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self.store = store
        self.reopen = reopen
        self.open_path: str | None = None  # the document on screen, which Reopen never names
        self._files: list[str] = []
        self.setToolTipsVisible(True)

    def set_open(self, path: str | None) -> None:
        """The document now on screen: Reopen names the one before it."""
        self.open_path = path
        self.fill(self._files)

    def fill(self, files: list[str]) -> None:
        self._files = list(files)
        self.clear()
        for path in files:
            action = self.addAction(entry_text(path).replace("&", "&&"))
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_requested.emit(Path(p)))
        if files:
            self.addSeparator()
            self.addAction("Clear Menu", self._clear)
        self.setEnabled(bool(files))
        last = next((f for f in files if f != self.open_path), None)
        self.reopen.setEnabled(last is not None)
        self.reopen.setText(f"&Reopen {short_name(last).replace('&', '&&')}" if last else "&Reopen Last Document")
        self.reopen.setToolTip(last or "")
        self.reopen.setData(last)

    def paths(self) -> list[str]:
        return [action.data() for action in self.actions() if action.data()]

    def forget(self, path: str) -> None:
        """The document is forgotten: its entry, its place and, for a paste, the copy kept of it."""
        self.store.forget_place(path)
        pasted.forget(path)
        self.fill(self.store.forget_recent_file(path))

    def _clear(self) -> None:
        """Clear Menu forgets every document listed, as ``forget`` does each."""
        for path in self.store.recent_files():
            self.forget(path)
