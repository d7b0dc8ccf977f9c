"""Every folder the app reads from or writes to, in one place.

Packaged files (the bundled model, the icons) come from the installed package, whether it is a
wheel, an editable checkout or a frozen app; what the app writes goes only to the platform's
per-user config, cache and log folders for the app (platformdirs).
"""

from __future__ import annotations

import hashlib
import os
import sys
from importlib.resources import files
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "reading-assistant"
BUNDLED_MODEL_NAME = "minilm-squad-int8"
BUNDLED_EMBEDDER_NAME = "minilm-embed-int8"
# Tests and portable setups point the config folder elsewhere.
CONFIG_DIR_VARIABLE = "READING_ASSISTANT_CONFIG_DIR"
# The installed package: the bundled models and the resources are packages beside its code.
PACKAGE = __name__.partition(".")[0]


def _package_dir(package: str) -> Path:
    return Path(os.fspath(files(package)))


def bundled_models_dir() -> Path:
    return _package_dir(f"{PACKAGE}.models")


def bundled_model_dir() -> Path:
    """The default model that ships with the app."""
    return bundled_models_dir() / BUNDLED_MODEL_NAME


def bundled_embedder_dir() -> Path:
    """The sentence embedder that ships with the app, for finding passages across a library."""
    return bundled_models_dir() / BUNDLED_EMBEDDER_NAME


def resource_path(*parts: str) -> Path:
    return _package_dir(f"{PACKAGE}.resources").joinpath(*parts)


def _dirs() -> PlatformDirs:
    return PlatformDirs(APP_NAME, appauthor=False)


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_VARIABLE) or _dirs().user_config_dir)


def log_dir() -> Path:
    return Path(_dirs().user_log_dir)


def cache_dir() -> Path:
    return Path(_dirs().user_cache_dir)


def data_dir() -> Path:
    return Path(_dirs().user_data_dir)


def runtime_dir() -> Path:
    """The session's own folder for the running app's socket: ``$XDG_RUNTIME_DIR`` (local to this
    machine, private to the user, emptied at logout) when the system has one, else the cache folder."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if sys.platform.startswith("linux") and runtime and Path(runtime).is_absolute():
        return Path(runtime) / APP_NAME
    return cache_dir()


def instance_address() -> str:
    """Where the running window listens for files to open (``gui.single_instance``): a socket file
    in ``runtime_dir`` or, on Windows, a named pipe's name. One per user and data folder, so a
    portable setup or a test with folders of its own has its own."""
    tag = hashlib.sha256(str(data_dir()).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    if sys.platform == "win32":
        return f"{APP_NAME}-{os.environ.get('USERNAME', 'user')}-{tag}"
    return str(runtime_dir() / "window" / f"{tag}.socket")


def writable_dirs() -> tuple[Path, ...]:
    """The only folders the app may write to."""
    runtime = runtime_dir()
    return (config_dir(), log_dir(), cache_dir(), data_dir()) + (() if runtime == cache_dir() else (runtime,))
