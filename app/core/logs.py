"""What a bug report needs, in a rotating log file in the platform's user log folder.

The file always gets INFO and up (model, provider, timings, errors with their tracebacks);
standard error gets warnings, or everything with ``--verbose``. onnxruntime's own log stays quiet
unless the reader asks for ``--verbose``.
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import sys
from pathlib import Path

from .. import __version__
from .paths import log_dir

LOG_NAME = "reading-assistant.log"
MAX_LOG_BYTES = 1_000_000
LOG_BACKUPS = 3

# The app's own logger: every module logs to a child of it (logging.getLogger(__name__)).
log = logging.getLogger(__name__.partition(".")[0])


def log_path() -> Path:
    return log_dir() / LOG_NAME


def setup_logging(verbose: bool = False) -> Path | None:
    """Send the app's log to the log file and standard error; returns the file, or None if it cannot be written."""
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose else "warning: %(message)s"))
    log.addHandler(console)
    path: Path | None = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A file name whose bytes are not UTF-8 is logged with them escaped, never refused.
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", errors="backslashreplace"
        )
    except OSError as error:  # a read-only home must not stop the app
        log.warning("cannot write the log file %s: %s", path, error)
        path = None
    else:
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(file_handler)
    _configure_onnxruntime(verbose)
    log.info(
        "Reading Assistant %s, Python %s, %s, frozen: %s",
        __version__,
        platform.python_version(),
        platform.platform(),
        getattr(sys, "frozen", False),
    )
    return path


def _configure_onnxruntime(verbose: bool) -> None:
    """onnxruntime prints its own coloured warnings to stderr: keep them for --verbose."""
    import onnxruntime  # after the package's __init__ turned its telemetry off

    # Fatal only: its errors come back to the app as exceptions, said in one line (a GPU runtime
    # without its CUDA libraries would otherwise print a red C++ line first).
    onnxruntime.set_default_logger_severity(2 if verbose else 4)
    # The environment variable is what stops the files; this also stops Windows' ETW events.
    onnxruntime.disable_telemetry_events()
