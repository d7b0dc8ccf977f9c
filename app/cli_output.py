"""What the command line writes, and how it ends: the answers on standard output, one line on
standard error for whatever goes wrong, never a traceback.

A refusal is its one sentence (exit 2); a bug is one line naming the log file, which holds the
traceback (exit 1); a reader who stops reading (``| head``) ends the command quietly (exit 141, as a
shell reports SIGPIPE); Ctrl+C exits 130. A standard stream that was closed (``>&-``) is refused in
one line when the answers need it and never lends its number to a file the command opens. A
file name's bytes that are not UTF-8 are shown escaped (``\\xff``), and so is any character a
terminal would not print as itself (a line break in a name, an escape sequence).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable

from .core.errors import ReadingAssistantError
from .core.library import READING, IndexProgress
from .core.logs import log

PROGRAM = "reading-assistant"
EXIT_UNEXPECTED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # as a shell reports a command ended by SIGPIPE
# An unexpected error's message is cut to this many characters on its one line (the log has it all).
LONGEST_ERROR = 300
OUTPUT_CLOSED = "standard output is closed: there is nowhere to write the answers"


def shown(text: str, keep: str = "") -> str:
    """``text`` as a terminal prints it: a byte that was not UTF-8 (kept by Python as a lone
    surrogate) as ``\\xff``, every character that is not printable, but those in ``keep``, as its
    Python escape."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if text.translate(dict.fromkeys(map(ord, keep))).isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else ascii(c)[1:-1] for c in text)


def write_stderr(text: str, end: str = "\n") -> None:
    """``text`` on standard error as it is; a closed or broken standard error loses it, nothing more."""
    if sys.stderr is None:
        return
    with contextlib.suppress(OSError, ValueError):  # ValueError: a stream already closed
        print(text, end=end, file=sys.stderr, flush=True)


def say(line: str) -> None:
    """One line on standard error: a note, a warning or what went wrong."""
    write_stderr(shown(line))


def check_output_open() -> None:
    if sys.stdout is None:
        raise ReadingAssistantError(OUTPUT_CLOSED)


def json_text(value: object) -> str:
    """``value`` as one line of JSON, its text as it is but for what a terminal would not print,
    given as its JSON escape (the lone surrogate that stands for a file name's byte that was not
    UTF-8 as ``"\\udcff"``)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def write_output(text: str) -> None:
    """Print the result (its lines and tabs kept, anything else a terminal would not print escaped)."""
    check_output_open()
    try:
        print(shown(text, keep="\n\t"))
    except BrokenPipeError:
        raise  # the reader closed the pipe on purpose (| head): run_guarded ends quietly
    except OSError as error:
        raise ReadingAssistantError(f"cannot write the answers: {error.strerror or error}") from error
    flush_output()


def flush_output() -> None:
    """Make sure what was printed reached standard output (a full disk is an error)."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        raise ReadingAssistantError(f"cannot write the answers: {error.strerror or error}") from error


def keep_standard_descriptors() -> None:
    """Point each closed standard descriptor at the null device, so that no file the command opens
    takes its number (where a library's own output would land in it); a closed standard error
    becomes the null device for the notes and warnings too."""
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != descriptor:
                os.dup2(null, descriptor)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (standard error lives as long as the process)


def stop_writing() -> None:
    """The reader closed the pipe: what is still buffered goes to the null device, so the
    interpreter's last flush does not fail again on standard error."""
    null = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no stream, or one without a descriptor
            os.dup2(null, stream.fileno())
    os.close(null)


def log_bug() -> str | None:
    """The traceback of the error being handled, in the log file only (standard error gets one
    line); the file's path, or None when there is no log file."""
    files = [handler for handler in log.handlers if isinstance(handler, logging.FileHandler)]
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "unexpected error", None, sys.exc_info())
    for handler in files:
        handler.handle(record)
    return files[0].baseFilename if files else None


def unexpected_error_line(error: BaseException, log_file: str | None) -> str:
    message = " ".join(str(error).split())
    what = f"{type(error).__name__}: {message}" if message else type(error).__name__
    if len(what) > LONGEST_ERROR:
        what = what[: LONGEST_ERROR - 3] + "..."
    where = f"details in {log_file}" if log_file else "no log file could be written"
    return f"{PROGRAM}: unexpected error: {what} ({where})"


def run_guarded(command: Callable[[], int]) -> int:
    """``command()``'s exit status, under the error contract above."""
    keep_standard_descriptors()
    logging.raiseExceptions = False  # a log that cannot be written must not print its own traceback
    try:
        try:
            return command()
        finally:
            flush_output()  # a pipe closed early shows here, not as a message when Python exits
    except ReadingAssistantError as error:
        log.info("refused: %s", error)
        say(f"{PROGRAM}: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        stop_writing()
        return EXIT_PIPE_CLOSED
    except Exception as error:  # a bug: one line for the reader, the traceback for the bug report
        say(unexpected_error_line(error, log_bug()))
        return EXIT_UNEXPECTED


class ProgressLine:
    """A one-line progress bar with an ETA on standard error."""

    def __init__(self, label: str, unit: str = "windows") -> None:
        self.label = label
        self.unit = unit
        self.started = time.perf_counter()
        self.last = 0.0

    def index(self, progress: IndexProgress) -> None:
        """Indexing's progress, a line per stage (files read, then passages embedded)."""
        unit = "files" if progress.stage == READING else "passages embedded"
        if unit != self.unit:
            self.unit, self.started, self.last = unit, time.perf_counter(), 0.0
        self(progress.done, progress.total)

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.last < 0.5 and done < total:
            return
        self.last = now
        elapsed = now - self.started
        eta = elapsed / done * (total - done) if done else 0.0
        bar = "#" * (int(30 * done / total) if total else 30)
        end = "\n" if done >= total else ""
        write_stderr(f"\r{self.label} [{bar:<30}] {done}/{total} {self.unit}, {elapsed:.0f}s, ETA {eta:.0f}s", end)
