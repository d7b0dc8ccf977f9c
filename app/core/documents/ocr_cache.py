"""OCR results kept in the user's cache folder, so reopening a scan is instant.

An entry is keyed by the sha256 of the file's bytes, which page of it, and the OCR models' identity,
and is plain JSON (never pickle: a cache file is data, not code). Writes are atomic (a temporary file
renamed into place); the folder is kept under ``MAX_BYTES`` by dropping the least recently used
entries; an entry that cannot be read is ignored and rewritten, never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..paths import cache_dir
from .ocr import OcrLine, OcrPage, models_identity

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 3: pages read sideways, upside down or at a slant keep how they were turned
MAX_BYTES = 200 * 1024 * 1024
FOLDER = "ocr"


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_key(digest: str, part: str) -> str:
    """The name of the entry for ``part`` ("page 3", "frame 0 at 200 dpi") of the file with this digest."""
    return hashlib.sha256(f"{FORMAT_VERSION}|{digest}|{part}|{models_identity()}".encode()).hexdigest()


def folder() -> Path:
    return cache_dir() / FOLDER


def load(key: str) -> OcrPage | None:
    path = folder() / f"{key}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        page = _page_from(raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("ignoring a damaged OCR cache entry %s: %s", path.name, error)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: evicted last
    return page


def read_through(key: str, read: Callable[[], OcrPage]) -> OcrPage:
    """The cached page under ``key``, else ``read()``'s, kept for next time."""
    page = load(key)
    if page is None:
        page = read()
        store(key, page)
    return page


def store(key: str, page: OcrPage) -> None:
    """Save ``page``; a cache that cannot be written only costs the next open its time."""
    target = folder()
    try:
        target.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(_page_to(page), file, separators=(",", ":"))
            os.replace(temporary, target / f"{key}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _evict(target)
    except OSError as error:
        log.warning("cannot write the OCR cache in %s: %s", target, error)


def _evict(target: Path) -> None:
    entries = []
    for path in target.glob("*.json"):
        with contextlib.suppress(OSError):
            status = path.stat()
            entries.append((status.st_mtime, status.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda entry: entry[0]):
        if total <= MAX_BYTES:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            total -= size


def _page_to(page: OcrPage) -> dict:
    return {
        "version": FORMAT_VERSION,
        "width": page.width,
        "height": page.height,
        "points_per_pixel": page.points_per_pixel,
        "skew": page.skew,
        "turns": page.turns,
        "lines": [
            {
                "text": line.text,
                # Full floats (JSON keeps them exactly): a cached page is the very page that was read.
                "box": [float(value) for value in line.box],
                "lefts": np.asarray(line.lefts, dtype=np.float64).tolist(),
                "rights": np.asarray(line.rights, dtype=np.float64).tolist(),
                "score": float(line.score),
            }
            for line in page.lines
        ],
    }


def _page_from(raw: dict) -> OcrPage:
    if raw["version"] != FORMAT_VERSION:
        raise ValueError(f"format {raw['version']}")
    lines = []
    for item in raw["lines"]:
        text = str(item["text"])
        lefts = np.asarray(item["lefts"], dtype=np.float64)
        rights = np.asarray(item["rights"], dtype=np.float64)
        box = tuple(float(value) for value in item["box"])
        if len(box) != 4 or lefts.shape != (len(text),) or rights.shape != (len(text),):
            raise ValueError("a line's boxes do not match its text")
        lines.append(OcrLine(text, box, lefts, rights, float(item["score"])))  # type: ignore[arg-type]
    return OcrPage(
        int(raw["width"]),
        int(raw["height"]),
        float(raw["points_per_pixel"]),
        tuple(lines),
        float(raw["skew"]),
        int(raw["turns"]) % 4,
    )
