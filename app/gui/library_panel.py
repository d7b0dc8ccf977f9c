"""The library panel: its folders and documents with each one's state, and the indexing's progress.

It only shows and asks: the manager does the work (``LibraryManager``) and the window wires both.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.library import FAILED, INDEXED, READING, WAITING, IndexProgress, LibraryDocument
from .words import plural

MAX_LISTED = 2_000  # documents listed per folder; the rest are counted
STATE_WORDS = {INDEXED: "indexed", WAITING: "waiting", FAILED: "failed"}
PATH_ROLE = Qt.ItemDataRole.UserRole
WHOLE_LIBRARY = "The whole library"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def progress_text(progress: IndexProgress) -> str:
    """ "Reading 12 of 240 files · 35 passages/s · about 2 min left"."""
    what = "Reading" if progress.stage == READING else "Understanding"
    unit = "files" if progress.stage == READING else "passages"
    parts = [f"{what} {progress.done:,} of {progress.total:,} {unit}"]
    if progress.passages_per_second:
        parts.append(f"{progress.passages_per_second:,.0f} passages/s")
    if progress.seconds_left:
        parts.append(f"about {duration(progress.seconds_left)} left")
    return " · ".join(parts)


class LibraryPanel(QWidget):
    add_folder_requested = Signal()
    add_files_requested = Signal()
    remove_requested = Signal(str)  # the folder or file to take out
    pause_toggled = Signal(bool)
    open_requested = Signal(str)  # a document's path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPanel")
        self.summary = QLabel("The library is empty: add a folder of documents to ask them all at once.")
        self.summary.setWordWrap(True)
        self.scope_box = QComboBox()  # what Ask the Library asks: all of it, or one folder
        self.scope_box.setAccessibleName("Ask in")
        self.scope_box.setToolTip("Ask the Library asks every document, or only those in one folder")
        self.scope_box.addItem(WHOLE_LIBRARY, None)
        scope_label = QLabel("&Ask in:")
        scope_label.setBuddy(self.scope_box)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Document", "State"])
        self.tree.setAccessibleName("Library")
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()  # the names take the width; the states, what they need
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemActivated.connect(self._activated)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.add_folder_button = QPushButton("Add Folder…")
        self.add_folder_button.clicked.connect(self.add_folder_requested)
        self.add_files_button = QPushButton("Add Files…")
        self.add_files_button.clicked.connect(self.add_files_requested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the selected folder or document out of the library (the files stay)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setVisible(False)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.progress_label.setVisible(False)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause indexing; what is indexed stays, and it goes on from there")
        self.pause_button.toggled.connect(self._pause_toggled)
        buttons = QHBoxLayout()
        for button in (self.add_folder_button, self.add_files_button, self.remove_button):
            buttons.addWidget(button)
        indexing = QHBoxLayout()
        indexing.addWidget(self.progress_bar, 1)
        indexing.addWidget(self.pause_button)
        scope = QHBoxLayout()
        scope.addWidget(scope_label)
        scope.addWidget(self.scope_box, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addLayout(scope)
        layout.addWidget(self.tree, 1)
        layout.addLayout(indexing)
        layout.addWidget(self.progress_label)

    def show_documents(self, folders: list[str], documents: list[LibraryDocument]) -> None:
        """The folders, each with its documents and their states (a failed one says why)."""
        expanded = {item.data(0, PATH_ROLE) for item in self._folder_items() if item.isExpanded()}
        self.tree.clear()
        by_folder: dict[str, list[LibraryDocument]] = {folder: [] for folder in folders}
        for document in documents:
            by_folder.setdefault(document.folder, []).append(document)
        for folder, held in by_folder.items():
            done = sum(d.state == INDEXED for d in held)
            item = QTreeWidgetItem([Path(folder).name or folder, f"{done:,} of {len(held):,}"])
            item.setToolTip(0, folder)
            item.setData(0, PATH_ROLE, folder)
            for document in held[:MAX_LISTED]:
                child = QTreeWidgetItem([document.name, STATE_WORDS.get(document.state, document.state)])
                child.setData(0, PATH_ROLE, document.path)
                why = f"\n{document.error}" if document.error else ""
                child.setToolTip(0, document.path + why)
                child.setToolTip(1, document.error or STATE_WORDS.get(document.state, ""))
                item.addChild(child)
            if len(held) > MAX_LISTED:
                item.addChild(QTreeWidgetItem([f"… and {len(held) - MAX_LISTED:,} more", ""]))
            self.tree.addTopLevelItem(item)
            item.setExpanded(folder in expanded or len(by_folder) == 1)
        self._show_scopes(folders)
        indexed = sum(d.state == INDEXED for d in documents)
        failed = sum(d.state == FAILED for d in documents)
        if not folders:
            self.summary.setText("The library is empty: add a folder of documents to ask them all at once.")
        else:
            failures = f", {plural(failed, 'failed')}" if failed else ""
            self.summary.setText(
                f"{plural(len(documents), 'document')} in {plural(len(folders), 'folder')}: "
                f"{indexed:,} indexed{failures}. Ask them all from the Question menu (Ask the Library)."
            )

    def scope(self) -> str | None:
        """The folder Ask the Library asks, or None for the whole library."""
        return self.scope_box.currentData()

    def set_scope(self, folder: str | None) -> None:
        index = self.scope_box.findData(folder)
        self.scope_box.setCurrentIndex(max(index, 0))

    def _show_scopes(self, folders: list[str]) -> None:
        """The folders to ask in; the one chosen stays chosen while it is in the library."""
        chosen = self.scope()
        self.scope_box.blockSignals(True)
        self.scope_box.clear()
        self.scope_box.addItem(WHOLE_LIBRARY, None)
        for folder in folders:
            self.scope_box.addItem(Path(folder).name or folder, folder)
            self.scope_box.setItemData(self.scope_box.count() - 1, folder, Qt.ItemDataRole.ToolTipRole)
        self.set_scope(chosen)
        self.scope_box.blockSignals(False)
        self.scope_box.setEnabled(len(folders) > 1)

    def show_progress(self, progress: IndexProgress | None) -> None:
        running = progress is not None
        self.progress_bar.setVisible(running or self.pause_button.isChecked())
        self.progress_label.setVisible(running or self.pause_button.isChecked())
        if progress is not None:
            self.progress_bar.setMaximum(max(progress.total, 1))
            self.progress_bar.setValue(progress.done)
            self.progress_label.setText(progress_text(progress))

    def set_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")
        if paused:
            self.progress_label.setText("Indexing is paused; what is indexed can be asked")

    def _folder_items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]

    def _pause_toggled(self, paused: bool) -> None:
        self.set_paused(paused)
        self.pause_toggled.emit(paused)

    def _selected_path(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, PATH_ROLE) if items else None

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self._selected_path() is not None)

    def _remove(self) -> None:
        path = self._selected_path()
        if path is not None:
            self.remove_requested.emit(path)

    def _activated(self, item: QTreeWidgetItem) -> None:
        path = item.data(0, PATH_ROLE)
        if path is not None and item.parent() is not None:
            self.open_requested.emit(path)
