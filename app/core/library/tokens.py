"""A library document's tokens kept beside its text: reopening it tokenizes nothing.

The reader tokenizes a document once; when the library holds that document (the same text as
the one it indexed from the file), its tokens are kept in the library file for that reader's
tokenizer and taken again the next time it is opened. They are taken only while the text they
were made of is the text being read (its SHA-256), and they go when the document leaves the
library (its row cascades). Short documents are not kept: tokenizing them takes milliseconds.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import zlib
from pathlib import Path

import numpy as np

from ..documents import Document
from ..reading import ReadingEngine, StopCheck
from ..windows import TokenizedText
from .store import LibraryError, LibraryStore, default_library_path

log = logging.getLogger(__name__)

MIN_KEPT_TOKENS = 20_000  # a tenth of a second or more of tokenizing on two cores


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def kept_tokens(path: Path, text: str, tokenizer: str, library_path: Path | None = None) -> TokenizedText | None:
    """The tokens the library keeps of the file at ``path``, made by ``tokenizer`` (its fingerprint)
    of exactly ``text``; None otherwise. Never raises: the text is then tokenized as usual."""
    found = _with_store(
        library_path,
        lambda store: store.read(
            "SELECT t.text_sha256, t.ids, t.offsets FROM tokens t JOIN documents d ON d.id = t.document_id "
            "WHERE d.path = ? AND t.tokenizer = ?",
            (_kept_path(path), tokenizer),
        ),
    )
    if not found:
        return None
    fingerprint, ids, offsets = found[0]
    if fingerprint != text_fingerprint(text):
        return None
    try:
        ids_array = np.frombuffer(zlib.decompress(ids), dtype=np.int32)
        offsets_array = np.frombuffer(zlib.decompress(offsets), dtype=np.int32).reshape(-1, 2)
    except (zlib.error, ValueError) as error:
        log.warning("the library's tokens of %s could not be read: %s", path, error)
        return None
    if len(ids_array) != len(offsets_array) or (len(offsets_array) and int(offsets_array.max()) > len(text)):
        return None
    return TokenizedText(text, ids_array, offsets_array)


def keep_tokens(path: Path, tokens: TokenizedText, tokenizer: str, library_path: Path | None = None) -> bool:
    """Keep ``tokens`` for the file at ``path`` when the library holds it and they are worth
    keeping; True when kept. Never raises (a busy, full or read-only library keeps nothing)."""
    if len(tokens) < MIN_KEPT_TOKENS:
        return False

    def keep(store: LibraryStore) -> bool:
        rows = store.read("SELECT id FROM documents WHERE path = ?", (_kept_path(path),))
        if not rows:
            return False
        ids = zlib.compress(np.ascontiguousarray(tokens.ids, dtype=np.int32).tobytes(), 1)
        offsets = zlib.compress(np.ascontiguousarray(tokens.offsets, dtype=np.int32).tobytes(), 1)
        with store.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO tokens (document_id, tokenizer, text_sha256, ids, offsets) "
                "VALUES (?, ?, ?, ?, ?)",
                (rows[0][0], tokenizer, text_fingerprint(tokens.text), ids, offsets),
            )
        return True

    return bool(_with_store(library_path, keep))


def prepare_kept(
    engine: ReadingEngine, document: Document, should_stop: StopCheck | None = None, library_path: Path | None = None
) -> None:
    """``engine.prepare`` for a document about to be asked: the library's tokens of it when it keeps
    them, and kept there when the library holds the document but not yet its tokens."""
    if not document.origin:
        engine.prepare(document.text, should_stop)
        return
    origin = Path(document.origin)
    looked_up: list[TokenizedText | None] = []

    def kept() -> TokenizedText | None:
        looked_up.append(kept_tokens(origin, document.text, engine.tokenizer_fingerprint, library_path))
        return looked_up[-1]

    tokens = engine.prepare(document.text, should_stop, kept)
    if looked_up == [None] and isinstance(tokens, TokenizedText):  # tokenized just now
        keep_tokens(origin, tokens, engine.tokenizer_fingerprint, library_path)


def _kept_path(path: Path) -> str:
    return str(Path(path).resolve())


def _with_store(library_path: Path | None, work):
    library_path = library_path or default_library_path()
    if not library_path.is_file():
        return None
    try:
        store = LibraryStore(library_path, create=False, verify=False)
    except (LibraryError, sqlite3.Error, OSError) as error:
        log.info("the library's tokens are not at hand: %s", error)
        return None
    try:
        return work(store)
    except (LibraryError, sqlite3.Error, OSError) as error:
        log.info("the library's tokens are not at hand: %s", error)
        return None
    finally:
        store.close()
