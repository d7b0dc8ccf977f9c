"""Indexing: every waiting document read, cut into passages and made searchable by words, then every
passage embedded for its meaning. A generator of progress events, stoppable all along (a book is
loaded, cut and written with a stop check every few tens of milliseconds); what it did is committed
a document or a batch at a time, so a stop, a crash or a restart goes on where it was.

One indexer at a time per library: it holds a lease in the file (renewed as it goes, taken over
when it is older than ``LEASE_S``, as when its program died), so two windows never read the same
files twice.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..documents import Document, load_document
from ..documents.load_options import LoadOptions
from ..errors import Cancelled, InputError, PasswordNeeded
from ..stopping import check_stop, checked
from .content import pack
from .passages import passage_spans
from .store import FAILED, INDEXED, WAITING, LibraryError, LibraryStore

READING, EMBEDDING = "reading", "embedding"
LEASE_S = 60.0
EMBED_BATCH = 32
# Passages embedded between two stop checks: one model call a passage on the CPU, about 20 ms each.
EMBED_STOP_BATCH = 2
# How often the documents' counts of embedded passages are written while embedding.
COUNTS_EVERY_S = 30.0
# Each indexed document's count of embedded passages, where it falls short of its passages less the
# ones still waiting for a vector.
RECOUNT_EMBEDDED = """
WITH waiting AS (SELECT document_id, count(*) AS n FROM passages WHERE embedding IS NULL GROUP BY document_id),
embedded AS (
    SELECT d.id, d.passages - coalesce(w.n, 0) AS n FROM documents d LEFT JOIN waiting w ON w.document_id = d.id
    WHERE d.state = ? AND d.embedded < d.passages
)
UPDATE documents SET embedded = (SELECT n FROM embedded WHERE embedded.id = documents.id)
WHERE id IN (SELECT id FROM embedded) AND embedded != (SELECT n FROM embedded WHERE embedded.id = documents.id)
"""
# Passages written between two stop checks: their full-text index makes each a fraction of a
# millisecond, and now and then SQLite's own merge of the index takes a few tens more.
ROWS_PER_WRITE = 64
StopCheck = Callable[[], bool]
Loader = Callable[[Path, LoadOptions], Document]


class TextEmbedder(Protocol):
    """What the library asks of an embedding model (``core.embedding.Embedder`` is one)."""

    def embed(
        self, texts: Sequence[str], batch_size: int = ..., should_stop: StopCheck | None = None
    ) -> np.ndarray: ...


class IndexerBusy(LibraryError):
    """Another window or program is indexing this library."""


@dataclass(frozen=True)
class IndexProgress:
    stage: str  # READING (documents) or EMBEDDING (passages)
    done: int
    total: int
    passages_per_second: float
    seconds_left: float | None
    name: str = ""  # the document just read
    failed: int = 0


@dataclass
class _Meter:
    total: int
    started: float = 0.0
    done: int = 0
    passages: int = 0

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    def progress(self, stage: str, name: str = "", failed: int = 0) -> IndexProgress:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        left = (self.total - self.done) * elapsed / self.done if self.done else None
        return IndexProgress(stage, self.done, self.total, self.passages / elapsed, left, name, failed)


class Indexer:
    """Reads and embeds what the library is waiting for; ``embedder`` None reads only (words)."""

    def __init__(self, store: LibraryStore, embedder: TextEmbedder | None = None, load: Loader = load_document) -> None:
        self.store = store
        self.embedder = embedder
        self.load = load
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def run(self, should_stop: StopCheck | None = None) -> Iterator[IndexProgress]:
        stop = should_stop or (lambda: False)
        self._claim()
        try:
            yield from self._read_all(stop)
            if self.embedder is not None:
                yield from self._embed_all(stop)
        finally:
            self._release()

    # -- one indexer at a time ------------------------------------------------------------------

    def _claim(self) -> None:
        now = time.time()
        with self.store.write() as db:
            row = db.execute("SELECT owner, heartbeat FROM indexer WHERE id = 1").fetchone()
            if row is not None and row[0] != self.owner and now - row[1] < LEASE_S:
                raise IndexerBusy("Another window or program is indexing this library; it goes on there")
            db.execute("INSERT OR REPLACE INTO indexer(id, owner, heartbeat) VALUES (1, ?, ?)", (self.owner, now))

    def _renew(self, db) -> None:
        db.execute("UPDATE indexer SET heartbeat = ? WHERE id = 1 AND owner = ?", (time.time(), self.owner))

    def _renewing(self, stop: StopCheck) -> StopCheck:
        """``stop``, renewing the lease now and then: reading a long scan by OCR takes minutes, and
        another window must not think this indexer gone meanwhile."""
        renewed = [time.monotonic()]

        def check() -> bool:
            if time.monotonic() - renewed[0] > LEASE_S / 3:
                renewed[0] = time.monotonic()
                with self.store.write() as db:
                    self._renew(db)
            return stop()

        return check

    def _release(self) -> None:
        try:
            with self.store.write() as db:
                db.execute("DELETE FROM indexer WHERE id = 1 AND owner = ?", (self.owner,))
        except LibraryError:
            pass  # a full or read-only disk: the lease runs out by itself

    # -- reading --------------------------------------------------------------------------------

    def _read_all(self, stop: StopCheck) -> Iterator[IndexProgress]:
        meter = _Meter(self.store.read("SELECT count(*) FROM documents WHERE state = ?", (WAITING,))[0][0])
        failed = 0
        last_id = 0
        while True:
            check_stop(stop)
            # A walk along the ids (``+state`` keeps SQLite off the state index, whose matches it
            # would sort at every step): each document is passed once, however many wait.
            rows = self.store.read(
                "SELECT id, path, name, size, mtime_ns FROM documents WHERE +state = ? AND id > ? ORDER BY id LIMIT 1",
                (WAITING, last_id),
            )
            if not rows:
                return
            doc_id, path, name, size, mtime_ns = rows[0]
            last_id = doc_id
            failed += not self._read_one(doc_id, Path(path), size, mtime_ns, stop, meter)
            meter.done += 1
            yield meter.progress(READING, name, failed)

    def _read_one(self, doc_id: int, path: Path, size: int, mtime_ns: int, stop: StopCheck, meter: _Meter) -> bool:
        """Read one file into the index; False when it failed (and says why)."""
        try:
            before = path.stat()
            document = self.load(path, LoadOptions(should_stop=self._renewing(stop)))
            after = path.stat()
        except Cancelled:
            raise
        except PasswordNeeded:
            return self._fail(doc_id, "it needs a password: open it in the window to read it")
        except FileNotFoundError:
            with self.store.write() as db:
                db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
            return True
        except InputError as error:
            return self._fail(doc_id, str(error))
        except MemoryError:
            return self._fail(doc_id, "the computer ran out of memory reading it")
        except OSError as error:
            return self._fail(doc_id, f"it cannot be read ({error.strerror or error})")
        if _stamp(before) != _stamp(after):
            return True  # it changed while it was read: it waits, and is read again next time
        spans = passage_spans(document.text, skipped=document.no_answer_spans, should_stop=stop)
        rows = [
            (doc_id, start, end, document.text[start:end], document.location(start) or "")
            for start, end in checked(spans, stop)
        ]
        content = pack(document, stop)
        # One transaction, written a batch of rows at a time with a stop check before each (the
        # passages' full-text index makes a book's rows seconds of work); a stop rolls it all back.
        with self.store.write() as db:
            if db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is None:
                return True  # taken out of the library while it was read
            deleted = ROWS_PER_WRITE
            while deleted == ROWS_PER_WRITE:  # the passages of an earlier reading
                check_stop(stop)
                deleted = db.execute(
                    "DELETE FROM passages WHERE id IN (SELECT id FROM passages WHERE document_id = ? LIMIT ?)",
                    (doc_id, ROWS_PER_WRITE),
                ).rowcount
            for first in range(0, len(rows), ROWS_PER_WRITE):
                check_stop(stop)
                db.executemany(
                    "INSERT INTO passages(document_id, start, end, text, location) VALUES (?, ?, ?, ?, ?)",
                    rows[first : first + ROWS_PER_WRITE],
                )
            db.execute(
                "UPDATE documents SET state = ?, error = NULL, format = ?, content = ?, passages = ?, embedded = 0, "
                "size = ?, mtime_ns = ?, indexed = ? WHERE id = ?",
                (
                    INDEXED,
                    document.format,
                    content,
                    len(rows),
                    after.st_size,
                    after.st_mtime_ns,
                    time.time(),
                    doc_id,
                ),
            )
            self._renew(db)
        meter.passages += len(rows)
        return True

    def _fail(self, doc_id: int, why: str) -> bool:
        with self.store.write() as db:
            db.execute("UPDATE documents SET state = ?, error = ? WHERE id = ?", (FAILED, why, doc_id))
            self._renew(db)
        return False

    # -- embedding ------------------------------------------------------------------------------

    def _embed_all(self, stop: StopCheck) -> Iterator[IndexProgress]:
        """Embed every passage still without a vector, a batch at a time, each batch committed.

        A document's count of embedded passages lives in its row beside its whole packed text, which
        SQLite writes again with any change to the row (tens of megabytes for a book): the counts are
        added up here and written when a document is done, every ``COUNTS_EVERY_S`` and at the end,
        and set right from the passages themselves when an indexer ended before writing them."""
        self._recount_embedded()
        waiting = self.store.read("SELECT count(*) FROM passages WHERE embedding IS NULL")[0][0]
        meter = _Meter(waiting)
        last_id = 0
        counts: dict[int, int] = {}
        written = time.monotonic()
        try:
            while True:
                check_stop(stop)
                rows = self.store.read(
                    "SELECT id, document_id, text FROM passages WHERE embedding IS NULL AND id > ? ORDER BY id LIMIT ?",
                    (last_id, EMBED_BATCH),
                )
                if not rows:
                    return
                last_id = rows[-1][0]
                vectors = self.embedder.embed([text for _, _, text in rows], EMBED_STOP_BATCH, should_stop=stop)
                blobs = np.asarray(vectors, dtype=np.float16)
                with self.store.write() as db:
                    db.executemany(
                        "UPDATE passages SET embedding = ? WHERE id = ?",
                        [(blobs[i].tobytes(), row[0]) for i, row in enumerate(rows)],
                    )
                    self._renew(db)
                for _, doc_id, _ in rows:
                    counts[doc_id] = counts.get(doc_id, 0) + 1
                # A document's passages are in a row of ids: all but the last batch's last one are done.
                current = rows[-1][1]
                if time.monotonic() - written > COUNTS_EVERY_S:
                    self._add_embedded(counts)
                    written = time.monotonic()
                elif len(counts) > 1:
                    self._add_embedded({doc_id: counts.pop(doc_id) for doc_id in list(counts) if doc_id != current})
                meter.done += len(rows)
                meter.passages += len(rows)
                yield meter.progress(EMBEDDING)
        finally:
            self._add_embedded(counts)

    def _add_embedded(self, counts: dict[int, int]) -> None:
        if counts:
            with self.store.write() as db:
                db.executemany(
                    "UPDATE documents SET embedded = embedded + ? WHERE id = ?",
                    [(count, doc_id) for doc_id, count in counts.items()],
                )
            counts.clear()

    def _recount_embedded(self) -> None:
        """Each document's count of embedded passages set right where it falls short (an indexer
        ended before writing it): looked for only when the counts do not add up to the passages with
        a vector (three counts over indexes), and only the rows that are wrong are written."""
        counted, passages, waiting = self.store.read(
            "SELECT (SELECT coalesce(sum(embedded), 0) FROM documents), (SELECT count(*) FROM passages), "
            "(SELECT count(*) FROM passages WHERE embedding IS NULL)"
        )[0]
        if counted != passages - waiting:
            with self.store.write() as db:
                db.execute(RECOUNT_EMBEDDED, (INDEXED,))


def _stamp(status: os.stat_result) -> tuple[int, int]:
    return status.st_size, status.st_mtime_ns
