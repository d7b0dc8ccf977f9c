"""Pasted text, kept: each paste is written to the cache folder so it can be reopened from Recent,
and nothing the reader brought is lost when another document replaces it.

The folder is bounded (the newest ``MAX_KEPT`` pastes, ``MAX_BYTES`` in all); a paste larger than
``MAX_PASTE_BYTES`` is not kept, and the window asks before anything replaces it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from datetime import datetime
from pathlib import Path

from ..core.paths import cache_dir

MAX_KEPT = 30
MAX_BYTES = 100 * 2**20
MAX_PASTE_BYTES = 20 * 2**20
NAME = "Pasted text"

log = logging.getLogger(__name__)


def pasted_dir() -> Path:
    return cache_dir() / "pasted"


def keep(text: str) -> Path | None:
    """Write ``text`` to the pasted folder; its file, or None when it is too large or cannot be
    written (a full disk, a read-only folder): the reader is asked before it is replaced."""
    data = text.encode("utf-8", "replace")
    if len(data) > MAX_PASTE_BYTES:
        return None
    folder = pasted_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}-{hashlib.sha256(data).hexdigest()[:12]}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        log.warning("the pasted text could not be kept in %s", folder, exc_info=True)
        return None
    prune(folder, keep_path=path)
    return path


def prune(folder: Path, keep_path: Path | None = None) -> None:
    """Remove the oldest pastes beyond ``MAX_KEPT`` files or ``MAX_BYTES``."""
    try:
        files = sorted(folder.glob("*.txt"), key=lambda p: p.stat().st_mtime, reverse=True)
        total = 0
        for index, path in enumerate(files):
            total += path.stat().st_size
            if path != keep_path and (index >= MAX_KEPT or total > MAX_BYTES):
                path.unlink(missing_ok=True)
    except OSError:
        log.warning("old pastes in %s could not be removed", folder, exc_info=True)


def is_pasted(path: Path | str) -> bool:
    """Whether ``path`` is a kept paste."""
    path = Path(path)
    return path.suffix == ".txt" and path.parent == pasted_dir()


def label(path: Path | str) -> str:
    """How a kept paste is named in Recent: 'Pasted text, 7 Dec 12:45'."""
    try:
        when = datetime.strptime(Path(path).name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return NAME
    return f"{NAME}, {when.day} {when:%b %H:%M}"


def forget(path: Path | str) -> None:
    """Remove a kept paste (the reader forgot it)."""
    if is_pasted(path):
        try:
            Path(path).unlink(missing_ok=True)
        except OSError:
            log.warning("the pasted text %s could not be removed", path, exc_info=True)
