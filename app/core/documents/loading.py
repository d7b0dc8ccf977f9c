"""Opening a file or standard input as a Document; every problem becomes one InputError naming the file."""

from __future__ import annotations

import logging
import os
import stat
import sys
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from ..errors import Cancelled, InputError
from ..stopping import StopCheck, check_stop
from ..windows import without_surrogates
from .contents import mark_text_contents
from .document import Document
from .formats import FORMATS, Format, supported_suffixes
from .load_options import NO_OPTIONS, LoadOptions
from .plain_text import decode_text, normalize_newlines, text_sections
from .sniffing import sniffed_suffix

MAX_BYTES = 200 * 1024 * 1024
READ_BYTES = 1 << 23  # read between two stop checks
STDIN_NAME = "standard input"
FORMAT_OF: dict[str, Format] = {suffix: form for form in FORMATS for suffix in form.suffixes}

log = logging.getLogger(__name__)


def load_document(path: Path | str, options: LoadOptions = NO_OPTIONS) -> Document:
    """Read a supported file; every problem becomes an InputError with one plain sentence.

    The document remembers the file as its ``origin``, so a view can show its pages.
    """
    path = Path(path)
    return replace(load_bytes(read_file(path, options.should_stop), path.name, options), origin=str(path))


def format_for(name: str, data: bytes) -> Format:
    """The file's format by its suffix, else by what its bytes are (``sniffing``); a binary that is
    none of the formats is refused."""
    suffix = Path(name).suffix.lower()
    form = FORMAT_OF.get(suffix) if suffix else None
    if form is None:
        form = FORMAT_OF.get(sniffed_suffix(data, name) or "\0")
    if form is None:
        supported = ", ".join(supported_suffixes())
        if suffix:
            raise InputError(f"{name}: unsupported file type {suffix} (supported: {supported}, or any text)")
        raise InputError(f"{name}: unsupported file type: it is not text, nor one of {supported}")
    return form


def load_bytes(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    """A file's bytes already in memory (read from disk, or uploaded), under the same rules."""
    if len(data) > MAX_BYTES:
        raise InputError(f"{name} is larger than {MAX_BYTES // 2**20} MB, the most this app reads")
    form = format_for(name, data)
    try:
        document = form.loader(data, name, options)
    except (InputError, Cancelled, MemoryError):
        raise
    except Exception as error:
        # Parsers meet arbitrary bytes and their libraries raise anything on a malformed file; the person
        # using the app gets one sentence, the details go to the log.
        log.debug("reading %s failed", name, exc_info=True)
        raise InputError(f"{name} cannot be read: the file may be damaged") from error
    return with_text(document, options.should_stop)


def read_file(path: Path, should_stop: StopCheck | None = None) -> bytes:
    """A regular file's bytes, at most ``MAX_BYTES``; anything else is refused before it is read.

    A FIFO would block ``open`` for ever and a device (``/dev/zero``) never ends, whatever ``stat``
    says of its size, so the file is opened without blocking, checked on the open descriptor, and
    read with a bound, ``READ_BYTES`` at a time with a stop check before each (a slow disk).
    """
    try:
        if stat.S_ISDIR(os.stat(path).st_mode):
            raise InputError(f"{path} is a folder, not a file")
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise InputError(f"{path.name} is not a regular file (a pipe, a device or a socket)")
            data = _read_bounded(stream, should_stop)
    except FileNotFoundError as error:
        raise InputError(f"no such file: {path}") from error
    except (NotADirectoryError, ValueError) as error:  # a file used as a folder; a NUL in the name
        raise InputError(f"no such file: {path}") from error
    except PermissionError as error:
        raise InputError(f"cannot read {path}: permission denied") from error
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from error
    if len(data) > MAX_BYTES:
        raise InputError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB, the most this app reads")
    return data


def read_stdin() -> Document:
    if sys.stdin is None or sys.stdin.closed:
        raise InputError(f"{STDIN_NAME} is closed: give a file, or pipe the text in")
    try:
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read {STDIN_NAME}: {getattr(error, 'strerror', None) or error}") from error
    if len(data) > MAX_BYTES:
        raise InputError(f"{STDIN_NAME} is larger than {MAX_BYTES // 2**20} MB, the most this app reads")
    text = decode_text(data, STDIN_NAME)
    return with_text(Document(text=text, name=STDIN_NAME, format="text", sections=text_sections(text)))


def _read_bounded(stream: BinaryIO, should_stop: StopCheck | None) -> bytes:
    """At most ``MAX_BYTES + 1`` bytes of ``stream``, ``READ_BYTES`` at a time with a stop check before each."""
    parts, size = [], 0
    while size <= MAX_BYTES:
        check_stop(should_stop)
        part = stream.read(min(READ_BYTES, MAX_BYTES + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def text_document(text: str, name: str, should_stop: StopCheck | None = None) -> Document:
    """Text that arrives as text (pasted, dropped), under the same rules as a file's."""
    if len(text) > MAX_BYTES:
        raise InputError(f"{name} is larger than {MAX_BYTES // 2**20} MB, the most this app reads")
    # A lone surrogate (from a broken clipboard) cannot be tokenized; U+FFFD keeps every offset.
    text = normalize_newlines(without_surrogates(text, should_stop), should_stop)
    document = Document(text=text, name=name, format="text", sections=text_sections(text, should_stop))
    return with_text(document, should_stop)


def with_text(document: Document, should_stop: StopCheck | None = None) -> Document:
    """The document as every loader's ends: refused without text; its contents and index marked."""
    if not document.text or document.text.isspace():  # not .strip(): a copy of a whole book
        raise InputError(f"{document.name} has no text")
    return mark_text_contents(document, should_stop)
