"""Downloading a model from the Hugging Face hub (or ``HF_ENDPOINT``): only when the user asks, only
what the app reads, and never waiting on a hub that does not answer.

``huggingface_hub`` retries a request that times out five times, with pauses, and its first
requests have no timeout at all: every request here has connect and read timeouts, and once one
request has gone unanswered for ``GIVE_UP_TIMEOUTS`` timeouts, across those retries, the download
stops with one line.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .errors import ModelError

Log = Callable[[str], None]
DOWNLOADED = ("*.json", "*.txt", "*.model", "*.onnx", "*.onnx_data", "onnx/*", "*.md")
# Seconds to connect, and between two bytes of an answer; HF_HUB_DOWNLOAD_TIMEOUT may shorten it.
TIMEOUT_S = 10
# A request unanswered for this many timeouts in a row (however the hub client retries) ends the download.
GIVE_UP_TIMEOUTS = 3
# huggingface_hub's session factory is global: one download at a time sets it.
_DOWNLOADING = threading.Lock()
log = logging.getLogger(__name__)


class HubSilent(Exception):
    """The hub stopped answering; not one of the errors the hub client retries on."""


class _Watch:
    """Times every hub request and stops retrying one that has gone unanswered too long."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.give_up = GIVE_UP_TIMEOUTS * timeout
        self._lock = threading.Lock()
        # (method, url) -> when the request was first tried since the hub last sent anything for it.
        self._waiting: dict[tuple[str, str], float] = {}

    def session(self):
        import requests

        session = requests.Session()
        send = session.request

        def request(method, url, *args, **kwargs):
            return self._send(send, requests, method, url, *args, **kwargs)

        session.request = request  # type: ignore[method-assign]
        return session

    def _send(self, send, requests, method: str, url: str, *args, **kwargs):
        key = (str(method).upper(), str(url))
        now = time.monotonic()
        with self._lock:
            if any(str(header).lower() == "range" for header in kwargs.get("headers") or {}):
                self._waiting.pop(key, None)  # resuming: bytes came since the last try
            first = self._waiting.get(key)
        if first is not None and now - first > self.give_up:
            raise HubSilent(f"no answer for {self.give_up:.0f} s")
        kwargs["timeout"] = (self.timeout, self.timeout)
        try:
            response = send(method, url, *args, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as error:
            log.info("the hub did not answer %s %s: %s", method, url, error)
            with self._lock:
                self._waiting.setdefault(key, now)
            raise
        with self._lock:
            if kwargs.get("stream"):
                self._waiting.setdefault(key, now)  # its body may still stall: a retry then counts on
            else:
                self._waiting.pop(key, None)
        return response


def download(model_id: str, folder: Path, log: Log) -> Path:
    """Fetch a model's files into ``folder``: what the user asked for, nothing else."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import requests
        from huggingface_hub import HfApi, configure_http_backend, constants, snapshot_download
        from huggingface_hub.utils import disable_progress_bars
        from huggingface_hub.utils import logging as hub_logging
    except ImportError:
        if getattr(sys, "frozen", False):  # the installed app carries no download stack (nor ssl)
            raise ModelError(
                "this installed app does not download models: download it with the pip-installed app "
                "(pip install 'reading-assistant[models]'), whose models this app finds too, or add a "
                "downloaded model's folder with 'models add FOLDER'"
            ) from None
        raise ModelError(
            "downloading a model needs the models extra: pip install 'reading-assistant[models]'"
        ) from None
    if constants.HF_HUB_OFFLINE:
        raise ModelError(f"cannot download {model_id}: HF_HUB_OFFLINE is set")
    log(f"downloading {model_id}")
    if not sys.stderr or not sys.stderr.isatty():
        disable_progress_bars()  # bars are for a terminal; a script's standard error stays one line on error
    timeout = max(1, min(TIMEOUT_S, constants.HF_HUB_DOWNLOAD_TIMEOUT))
    watch = _Watch(timeout)
    with _DOWNLOADING:
        configure_http_backend(backend_factory=watch.session)
        # Its retry notices would break the one-line error contract; the watch logs them to the log file.
        verbosity = hub_logging.get_verbosity()
        hub_logging.set_verbosity_error()
        try:
            files = [s.rfilename for s in HfApi().model_info(model_id, timeout=timeout).siblings or []]
            patterns = list(DOWNLOADED)
            # Weights only when there is no ONNX model to use; safetensors rather than pickles.
            if not any(f.endswith(".onnx") for f in files):
                weights = [f for f in files if f.endswith(".safetensors")] or [f for f in files if f.endswith(".bin")]
                patterns += weights
            snapshot_download(model_id, local_dir=folder, allow_patterns=patterns, etag_timeout=timeout)
        except (HubSilent, requests.Timeout):
            raise ModelError(f"cannot download {model_id}: the hub at {constants.ENDPOINT} does not answer") from None
        except Exception as error:  # the hub client raises many kinds; the reader gets one line
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ModelError(f"cannot download {model_id}: {reason}") from None
        finally:
            configure_http_backend()
            hub_logging.set_verbosity(verbosity)
    return folder
