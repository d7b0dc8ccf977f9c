"""Reading files into the plain text the engine answers from."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import InputError

TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", "")
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    """A document's text; answer offsets index ``text`` exactly."""

    text: str
    name: str
    format: str


def supported_suffixes() -> tuple[str, ...]:
    return tuple(s for s in TEXT_SUFFIXES if s)


def decode_text(data: bytes, name: str) -> str:
    """Decode plain text without changing a character, so offsets match the file."""
    if b"\x00" in data[:8192]:
        raise InputError(f"{name} looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name} is not UTF-8 text") from error


def load_document(path: Path) -> Document:
    """Read a supported file; every problem becomes an InputError with a plain message."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise InputError(f"{path.name}: unsupported file type {suffix} (supported: {', '.join(supported_suffixes())})")
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB")
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise InputError(f"no such file: {path}") from error
    except IsADirectoryError as error:
        raise InputError(f"{path} is a folder, not a file") from error
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from error
    text = decode_text(data, path.name)
    if not text.strip():
        raise InputError(f"{path.name} is empty")
    return Document(text=text, name=path.name, format="markdown" if suffix in (".md", ".markdown") else "text")


def read_stdin() -> Document:
    text = decode_text(sys.stdin.buffer.read(), "standard input")
    if not text.strip():
        raise InputError("standard input is empty")
    return Document(text=text, name="standard input", format="text")
