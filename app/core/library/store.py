"""The library's index: one SQLite file in the user's data folder.

It holds the folders and files the reader added, each document's extracted text (so it opens again
without being read), its passages with an FTS5 table for BM25, and each passage's embedding.

SQLite in WAL mode lets one writer and many readers share it: the window's indexer, a question
asked in the window, ``ask --library`` and ``serve`` may all have it open. Every change is one
transaction, so a crash or a full disk loses nothing committed before it. A file that is not a
library (damaged, or something else) is set aside and a new one made, with a message; a library
from a newer version of the app is never written to.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ReadingAssistantError
from ..paths import data_dir

SCHEMA_VERSION = 1
LIBRARY_FILE = "library.sqlite3"
BUSY_TIMEOUT_MS = 10_000
# Document states: waiting to be read, read (its passages are searchable by words; embeddings may
# still be missing), or failed (``error`` says why, in a sentence for the reader).
WAITING, INDEXED, FAILED = "waiting", "indexed", "failed"

SCHEMA = """
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added REAL NOT NULL
);
CREATE TABLE exclusions (
    path TEXT PRIMARY KEY
);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    format TEXT,
    content BLOB,
    passages INTEGER NOT NULL DEFAULT 0,
    embedded INTEGER NOT NULL DEFAULT 0,
    indexed REAL
);
CREATE INDEX documents_by_folder ON documents(folder_id, state);
CREATE INDEX documents_by_state ON documents(state, embedded);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    location TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX passages_by_document ON passages(document_id);
CREATE INDEX passages_to_embed ON passages(id) WHERE embedding IS NULL;
CREATE VIRTUAL TABLE passages_fts USING fts5(text, content='passages', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER passages_added AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER passages_removed AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE indexer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT NOT NULL,
    heartbeat REAL NOT NULL
);
"""
# The reader's tokens of a document it opened (``tokens.py``); made in a library of any version,
# as an older app reading the file passes over a table it does not know.
TOKENS_TABLE = """CREATE TABLE IF NOT EXISTS tokens (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    tokenizer TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    ids BLOB NOT NULL,
    offsets BLOB NOT NULL
);
"""


class LibraryError(ReadingAssistantError):
    """The library cannot be used as asked (a newer version's, a full or read-only disk)."""


@dataclass(frozen=True)
class LibraryDocument:
    """One file of the library as the index knows it."""

    id: int
    path: str
    name: str
    folder: str  # the folder (or file) the reader added that holds it
    state: str
    error: str | None
    passages: int
    embedded: int
    size: int


def default_library_path() -> Path:
    return data_dir() / LIBRARY_FILE


def friendly(error: sqlite3.Error) -> str:
    """What a database error means for the reader, in one sentence."""
    text = str(error).lower()
    if "full" in text:
        return "The disk is full: what was indexed before is kept; free some space and indexing goes on"
    if "readonly" in text or "read-only" in text:
        return "The library's folder cannot be written to (a read-only disk?): it can be searched, not changed"
    if "locked" in text or "busy" in text:
        return "Another window or program is writing to the library: try again in a moment"
    return f"The library could not be used: {error}"


class LibraryStore:
    """One connection to the library file; each thread opens its own."""

    def __init__(self, path: Path | None = None, *, create: bool = True, verify: bool = True) -> None:
        """``verify``: read the whole file once to find damage (a second connection of a program
        that verified it with its first need not)."""
        self.path = Path(path) if path is not None else default_library_path()
        self.verify = verify
        self._writing = threading.RLock()
        self.notice: str | None = None  # said once to the reader: the old file was set aside
        self.read_only = False  # on a read-only disk: searched, never changed
        if create:
            with contextlib.suppress(OSError):  # a read-only disk: a library there can still be read
                self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.connection = self._connect()
            self._check()
        except sqlite3.OperationalError as error:  # locked, read-only, full: the file itself is sound
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self.connection.close()
            if not self._opened_read_only():
                raise LibraryError(friendly(error)) from error
        except sqlite3.DatabaseError as error:  # not a database, or a damaged one
            self.connection.close()
            if not create:
                raise LibraryError(f"The library {self.path} is damaged: {error}") from error
            self._set_aside(error)
            self.connection = self._connect()
            self._check()
        except LibraryError:
            self.connection.close()
            raise

    def _opened_read_only(self) -> bool:
        """Open a library on a disk that cannot be written (WAL's shared-memory file cannot be made
        there, so the file is read as it stands); False when there is none to read."""
        if not self.path.is_file():
            return False
        try:
            self.connection = self._connect(read_only=True)
            version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error:
            return False
        if not 0 < version <= SCHEMA_VERSION:
            self.connection.close()
            return False
        self.read_only = True
        self.notice = "The library is on a disk that cannot be written to: it can be searched, not changed"
        return True

    def _connect(self, read_only: bool = False) -> sqlite3.Connection:
        # Autocommit: every change is an explicit transaction (``write``).
        target = f"{self.path.as_uri()}?mode=ro&immutable=1" if read_only else str(self.path)
        connection = sqlite3.connect(
            target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False, uri=read_only
        )
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        # What is deleted (a folder taken out) is overwritten, not left in free pages of the file.
        connection.execute("PRAGMA secure_delete = ON")
        return connection

    def _check(self) -> None:
        """Make the schema in a new file; refuse a newer one; a file that is not a sound library
        raises ``sqlite3.DatabaseError``."""
        connection = self.connection
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"The library {self.path} was made by a newer version of Reading Assistant: "
                "update the app to use it (it was left as it is)"
            )
        if version == 0:
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise sqlite3.DatabaseError("the file holds tables but is not a library")
            with self.write():
                connection.executescript(f"BEGIN; {SCHEMA} {TOKENS_TABLE} PRAGMA user_version = {SCHEMA_VERSION};")
            connection.execute("PRAGMA journal_mode = WAL")
            return
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'tokens'").fetchone():
            # A busy or read-only library keeps no tokens.
            with contextlib.suppress(LibraryError), self.write() as db:
                db.execute(TOKENS_TABLE)
        if not self.verify:
            return
        result = connection.execute("PRAGMA quick_check(1)").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(f"the index is damaged ({result})")

    def _set_aside(self, error: sqlite3.DatabaseError) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.replace(Path(f"{aside}{suffix}"))
        self.notice = (
            f"The library's index was damaged ({error}); it was set aside as {aside.name} and a new one "
            "started: add your folders again"
        )

    def close(self) -> None:
        self.connection.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is kept, or none of it (a full disk, a crash, an error). Two
        threads sharing this connection write one after the other, never into each other's."""
        if self.read_only:
            raise LibraryError(friendly(sqlite3.OperationalError("attempt to write a readonly database")))
        with self._writing:
            yield from self._transaction()

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self.connection
        if connection.in_transaction:  # the schema script (or this thread's outer write) began it
            yield connection
            return
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise LibraryError(friendly(error)) from error
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def read(self, sql: str, parameters: tuple | dict = ()) -> list[tuple]:
        try:
            return self.connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise LibraryError(friendly(error)) from error

    # -- what the library holds ----------------------------------------------------------------

    def folders(self) -> list[str]:
        return [row[0] for row in self.read("SELECT path FROM folders ORDER BY path")]

    def documents(self, folder: str | None = None) -> list[LibraryDocument]:
        """The library's documents (those under ``folder``, when given), by path."""
        sql = (
            "SELECT d.id, d.path, d.name, f.path, d.state, d.error, d.passages, d.embedded, d.size "
            "FROM documents d JOIN folders f ON f.id = d.folder_id"
        )
        if folder is None:
            rows = self.read(sql + " ORDER BY d.path")
        else:
            rows = self.read(
                sql + " WHERE d.path = ? OR (d.path > ? AND d.path < ?) ORDER BY d.path", (folder, *inside(folder))
            )
        return [LibraryDocument(*row) for row in rows]

    def document_by_path(self, path: str) -> LibraryDocument | None:
        found = [d for d in self.documents(path) if d.path == path]
        return found[0] if found else None

    def counts(self) -> dict[str, int]:
        """Documents by state, and the passages still to embed."""
        counts = {state: 0 for state in (WAITING, INDEXED, FAILED)}
        for state, count in self.read("SELECT state, count(*) FROM documents GROUP BY state"):
            counts[state] = count
        counts["passages"], counts["embedded"] = self.read(
            "SELECT coalesce(sum(passages), 0), coalesce(sum(embedded), 0) FROM documents"
        )[0]
        return counts

    def version(self) -> tuple[int, int]:
        """Changes so far, this connection's and the others' (``PRAGMA data_version`` counts only
        theirs): a cache of embeddings is rebuilt when it differs."""
        return self.read("PRAGMA data_version")[0][0], self.connection.total_changes


def inside(folder: str) -> tuple[str, str]:
    """Bounds of every path inside ``folder``: ``lower < path < upper`` (exact case, any character)."""
    base = folder.rstrip("/\\") + os.sep
    return base, base[:-1] + chr(ord(os.sep) + 1)
