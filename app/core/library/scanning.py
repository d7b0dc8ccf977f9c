"""Folders and files the reader adds, and what changed on disk since the index saw them.

A folder is walked a directory at a time (``os.scandir``, never a list of the whole tree in one
call), hidden folders skipped, a linked folder followed once (a link back up the tree is a loop,
seen by its device and inode). Files with a supported suffix are taken, and those whose name says nothing ("LICENSE",
"Apache-2.0") when their first bytes are text, HTML or a PDF: a folder of a hundred thousand files
costs one ``stat`` each, and its programs are never read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..documents import supported_suffixes
from ..documents.loading import MAX_BYTES
from ..documents.sniffing import sniffed_suffix
from ..errors import Cancelled, InputError
from .store import WAITING, LibraryStore, inside

SNIFF_BYTES = 8192  # read of a new file whose name says nothing
WRITE_BATCH = 500  # rows per transaction while a folder is synced: a crash loses at most one batch
StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class FileOnDisk:
    path: str
    size: int
    mtime_ns: int
    unnamed: bool = False  # its name does not say what it is ("LICENSE", "Apache-2.0"): its bytes will


def readable_by_its_bytes(path: str) -> bool:
    """Whether a file whose name says nothing begins as text, HTML or a PDF does."""
    try:
        with open(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return False
    return sniffed_suffix(head, Path(path).name) in (".txt", ".html", ".pdf")


@dataclass(frozen=True)
class SyncResult:
    added: int = 0
    changed: int = 0
    removed: int = 0
    missing_folders: tuple[str, ...] = ()  # added folders that are not there now (a drive unplugged?)


def add_folder(store: LibraryStore, path: Path | str) -> str:
    """Add a folder or a file to the library (``sync`` then finds its files); returns the path as
    kept. A folder already inside an added one adds nothing; one holding added folders takes them in."""
    resolved = Path(path).expanduser()
    try:
        exists = resolved.exists()
    except OSError as error:  # a name too long, a path the system refuses
        raise InputError(f"the path {path} cannot be used: {error.strerror or error}") from error
    if not exists:
        raise InputError(f"{path} does not exist")
    if not (resolved.is_dir() or resolved.is_file()):
        raise InputError(f"{path} is neither a folder nor a file")
    if resolved.is_file():
        found = _file(resolved, set(supported_suffixes()))
        if found is None or (found.unnamed and not readable_by_its_bytes(found.path)):
            supported = ", ".join(supported_suffixes())
            raise InputError(f"{resolved.name}: unsupported file type (supported: {supported}, or any text)")
    kept = str(resolved.resolve())
    folders = store.folders()
    holder = next((f for f in folders if kept == f or kept.startswith(inside(f)[0])), None)
    if holder is not None:
        with store.write() as db:  # taken back in, if it had been left out
            db.execute("DELETE FROM exclusions WHERE path = ?", (kept,))
        return holder
    with store.write() as db:
        db.execute("DELETE FROM exclusions WHERE path = ?", (kept,))
        db.execute("INSERT INTO folders(path, added) VALUES (?, ?)", (kept, time.time()))
        new_id = db.execute("SELECT id FROM folders WHERE path = ?", (kept,)).fetchone()[0]
        lower, upper = inside(kept)
        held = [row[0] for row in db.execute("SELECT id FROM folders WHERE path > ? AND path < ?", (lower, upper))]
        for folder_id in held:
            db.execute("UPDATE documents SET folder_id = ? WHERE folder_id = ?", (new_id, folder_id))
            db.execute("DELETE FROM folders WHERE id = ?", (folder_id,))
    return kept


def remove_folder(store: LibraryStore, path: Path | str) -> int:
    """Take a folder or a file out of the library with everything indexed from it; returns how many
    documents went. One inside an added folder is left out of it from now on."""
    candidate = Path(path).expanduser()
    try:
        kept = str(candidate.resolve()) if candidate.exists() else str(candidate)
    except OSError as error:
        raise InputError(f"the path {path} cannot be used: {error.strerror or error}") from error
    lower, upper = inside(kept)
    held_by = [f for f in store.folders() if kept.startswith(inside(f)[0])]
    with store.write() as db:
        removed = db.execute(
            "DELETE FROM documents WHERE path = ? OR (path > ? AND path < ?)", (kept, lower, upper)
        ).rowcount
        folders = db.execute("DELETE FROM folders WHERE path = ? OR (path > ? AND path < ?)", (kept, lower, upper))
        if held_by:
            db.execute("INSERT OR IGNORE INTO exclusions(path) VALUES (?)", (kept,))
        elif not removed and not folders.rowcount:
            raise InputError(f"{path} is not in the library")
    if removed:
        with store.write() as db:
            # The word index keeps deleted words in its older segments until they are merged.
            db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('optimize')")
    return removed


def files_under(
    root: Path, should_stop: StopCheck | None = None, left_out: frozenset[str] = frozenset()
) -> Iterator[FileOnDisk]:
    """Every supported file under ``root`` (``root`` itself, if it is a file), but for the files and
    folders ``left_out``."""
    suffixes = set(supported_suffixes())
    if root.is_file():
        found = _file(root, suffixes)
        if found is not None:
            yield found
        return
    pending = [root]
    seen: set[tuple[int, int]] = set()
    while pending:
        if should_stop is not None and should_stop():
            raise Cancelled("stopped")
        folder = pending.pop()
        try:
            status = folder.stat()
            key = (status.st_dev, status.st_ino)
            if key in seen:
                continue  # a link back to a folder already walked
            seen.add(key)
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            continue  # unreadable, or gone since it was listed
        folders = []
        for entry in sorted(listed, key=lambda e: e.name):
            if entry.name.startswith(".") or entry.path in left_out:
                continue
            try:
                if entry.is_dir():
                    folders.append(Path(entry.path))
                elif entry.is_file():
                    found = _file(Path(entry.path), suffixes)
                    if found is not None:
                        yield found
            except OSError:
                continue
        pending += reversed(folders)  # walked in name order, depth first


def _file(path: Path, suffixes: set[str]) -> FileOnDisk | None:
    suffix = path.suffix.lower()
    # No suffix, or one that is no type's ("Apache-2.0"): perhaps text; a type's (".exe"): not read.
    unnamed = suffix not in suffixes and not suffix[1:].isalpha()
    if suffix not in suffixes and not unnamed:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    if status.st_size == 0 or status.st_size > MAX_BYTES:
        return None
    return FileOnDisk(str(path), status.st_size, status.st_mtime_ns, unnamed)


def sync(store: LibraryStore, should_stop: StopCheck | None = None) -> SyncResult:
    """Bring the index in line with the disk: new files wait to be read, changed ones are read
    again, gone ones are dropped. An added folder that is not there now keeps its entries."""
    added = changed = removed = 0
    missing = []
    left_out = frozenset(row[0] for row in store.read("SELECT path FROM exclusions"))
    for folder_id, folder in store.read("SELECT id, path FROM folders ORDER BY path"):
        root = Path(folder)
        if not root.exists():
            missing.append(folder)
            continue
        known = {
            path: (doc_id, size, mtime)
            for doc_id, path, size, mtime in store.read(
                "SELECT id, path, size, mtime_ns FROM documents WHERE folder_id = ?", (folder_id,)
            )
        }
        new: list[FileOnDisk] = []
        stale: list[tuple[FileOnDisk, int]] = []
        for found in files_under(root, should_stop, left_out):
            entry = known.pop(found.path, None)
            if entry is None:
                if not found.unnamed or readable_by_its_bytes(found.path):
                    new.append(found)
            elif (entry[1], entry[2]) != (found.size, found.mtime_ns):
                stale.append((found, entry[0]))
            if len(new) + len(stale) >= WRITE_BATCH:
                added, changed = added + len(new), changed + len(stale)
                _write(store, folder_id, new, stale)
                new, stale = [], []
        added, changed = added + len(new), changed + len(stale)
        _write(store, folder_id, new, stale)
        gone = [doc_id for doc_id, _, _ in known.values()]
        for first in range(0, len(gone), WRITE_BATCH):
            with store.write() as db:
                db.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in gone[first : first + WRITE_BATCH]])
        removed += len(gone)
    return SyncResult(added, changed, removed, tuple(missing))


def _write(store: LibraryStore, folder_id: int, new: list[FileOnDisk], stale: list[tuple[FileOnDisk, int]]) -> None:
    if not new and not stale:
        return
    with store.write() as db:
        # A file already indexed under another added folder (a link into it) stays there.
        db.executemany(
            "INSERT OR IGNORE INTO documents(folder_id, path, name, size, mtime_ns, state) VALUES (?, ?, ?, ?, ?, ?)",
            [(folder_id, f.path, Path(f.path).name, f.size, f.mtime_ns, WAITING) for f in new],
        )
        for found, doc_id in stale:
            db.execute("DELETE FROM passages WHERE document_id = ?", (doc_id,))
            db.execute(
                "UPDATE documents SET size = ?, mtime_ns = ?, state = ?, error = NULL, content = NULL, "
                "passages = 0, embedded = 0 WHERE id = ?",
                (found.size, found.mtime_ns, WAITING, doc_id),
            )
