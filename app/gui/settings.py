"""User settings, stored in an INI file in the platform's config folder (platformdirs + QSettings)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..core.model_store import resolve_model
from ..core.options import DEFAULT_TOP_K, Choices
from ..core.paths import config_dir

MAX_RECENT = 10
MAX_HISTORY = 200


def settings_path() -> Path:
    return config_dir() / "settings.ini"


@dataclass
class EngineSettings:
    """What the settings dialog edits; every field has a sensible default."""

    model_dir: str = ""  # a model name from the store or a folder; empty: the bundled model
    device: str = "auto"
    top_k: int = DEFAULT_TOP_K
    max_answer_len: int = 0  # 0: the model's own, from its reading_assistant.json
    doc_stride: int = 0  # 0: the model's own

    def resolved_model_dir(self) -> Path:
        """The folder of the chosen model: a name from the model store, or a folder."""
        return resolve_model(self.model_dir or None)

    def choices(self) -> Choices:
        """The engine's options: what the reader set, the model's own where they left 0.

        The window reads the windows most relevant to the question first, streaming answers.
        """
        return Choices(
            top_k=self.top_k,
            max_answer_len=self.max_answer_len or None,
            doc_stride=self.doc_stride or None,
            ranked=True,
        )


class Store:
    """Typed access to the settings file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self._qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def engine_settings(self) -> EngineSettings:
        defaults = EngineSettings()
        values = {}
        for f in fields(EngineSettings):
            default = getattr(defaults, f.name)
            raw = self._qsettings.value(f"engine/{f.name}", default)
            try:
                values[f.name] = type(default)(raw)
            except (TypeError, ValueError):
                values[f.name] = default
        return EngineSettings(**values)

    def save_engine_settings(self, settings: EngineSettings) -> None:
        for f in fields(EngineSettings):
            self._qsettings.setValue(f"engine/{f.name}", getattr(settings, f.name))
        self._qsettings.sync()

    def recent_files(self) -> list[str]:
        value = self._qsettings.value("recent/files", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in value or []]

    def add_recent_file(self, path: Path) -> list[str]:
        entry = str(path.resolve())
        files = [entry] + [f for f in self.recent_files() if f != entry]
        self._qsettings.setValue("recent/files", files[:MAX_RECENT])
        self._qsettings.sync()
        return files[:MAX_RECENT]

    def forget_recent_file(self, path: str) -> list[str]:
        files = [f for f in self.recent_files() if f != path]
        self._qsettings.setValue("recent/files", files)
        self._qsettings.sync()
        return files

    def existing_recent_files(self) -> list[str]:
        """Recent files that still exist; the others are forgotten."""
        files = self.recent_files()
        kept = [f for f in files if Path(f).is_file()]
        if kept != files:
            self._qsettings.setValue("recent/files", kept)
            self._qsettings.sync()
        return kept

    def _list(self, key: str) -> list[str]:
        value = self._qsettings.value(key, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def questions(self) -> list[str]:
        """Questions asked, oldest first, across restarts."""
        return self._list("history/questions")

    def add_question(self, question: str) -> list[str]:
        history = [q for q in self.questions() if q != question] + [question]
        history = history[-MAX_HISTORY:]
        self._qsettings.setValue("history/questions", history)
        self._qsettings.sync()
        return history

    def zoom(self) -> int:
        """Steps of text size above (or below) the default."""
        try:
            return int(self._qsettings.value("view/zoom", 0))
        except (TypeError, ValueError):
            return 0

    def save_zoom(self, steps: int) -> None:
        self._qsettings.setValue("view/zoom", steps)
        self._qsettings.sync()

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self._qsettings.value("window/geometry"), self._qsettings.value("window/splitter")

    def save_window_state(self, geometry: QByteArray, splitter: QByteArray) -> None:
        self._qsettings.setValue("window/geometry", geometry)
        self._qsettings.setValue("window/splitter", splitter)
        self._qsettings.sync()
