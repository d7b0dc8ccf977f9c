"""One lock file per model name in the store: two ``models add`` or ``models remove`` of one name,
from two processes or two threads, never run at once; the second is told so in one line.

The lock is the operating system's (``flock`` on POSIX, ``msvcrt.locking`` on Windows), held by an
open file: it ends with the process that holds it, so a crash never leaves a model locked.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

LOCKS_FOLDER = ".locks"
# Windows' locks are mandatory: the byte locked lies past the text naming the holder, which the
# process turned away still reads.
LOCKED_BYTE = 4096
HOLDER_CHARS = 64
HOLDER_WAITS, HOLDER_WAIT_S = 10, 0.02  # at most 0.2 s for a holder that has just locked to say what it is


@contextmanager
def name_lock(root: Path, name: str, action: str) -> Iterator[None]:
    """Hold the store's lock on ``name`` while ``action`` ("add", "remove") runs; refuse at once,
    naming what holds it, when another holds it."""
    folder = root / LOCKS_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Never through a link: the lock file is written, and must be the store's own.
        descriptor = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as error:
        raise InputError(f"cannot lock {name} in the model store: {error.strerror or error}") from None
    try:
        if not _try_lock(descriptor):
            holder = _read_holder(descriptor)
            for _ in range(HOLDER_WAITS):  # the holder writes its name just after it locks
                if holder:
                    break
                time.sleep(HOLDER_WAIT_S)
                holder = _read_holder(descriptor)
            what = f"'models {holder}'" if holder else "'models add' or 'models remove'"
            raise InputError(f"another {what} of {name} is under way: try again when it is done")
        try:
            _write_holder(descriptor, action)
            yield
        finally:
            _write_holder(descriptor, "")
            _unlock(descriptor)
    finally:
        os.close(descriptor)


def _read_holder(descriptor: int) -> str:
    try:
        os.lseek(descriptor, 0, os.SEEK_SET)
        text = os.read(descriptor, HOLDER_CHARS)
    except OSError:
        return ""
    holder = text.decode("ascii", "replace").strip()
    return holder if holder in ("add", "remove") else ""


def _write_holder(descriptor: int, action: str) -> None:
    try:
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, action.encode("ascii"))
    except OSError:
        pass  # the name of the holder is a courtesy; the lock is what matters


if sys.platform == "win32":
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        os.lseek(descriptor, LOCKED_BYTE, os.SEEK_SET)
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, LOCKED_BYTE, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
