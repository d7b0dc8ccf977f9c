"""User settings, stored in an INI file in the platform's config folder (platformdirs + QSettings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..core.model_store import resolve_model
from ..core.options import DEFAULT_TOP_K, DEVICES, LIMITS, Choices
from ..core.paths import config_dir

MAX_RECENT = 10
MAX_HISTORY = 200
MAX_PLACES = 200


def settings_path() -> Path:
    return config_dir() / "settings.ini"


@dataclass(frozen=True)
class EngineSettings:
    """What the settings dialog edits. The model and where it runs decide the engine (a change loads
    it again); the rest is how each question is read (a change applies from the next read). None is
    the model's own, from its reading_assistant.json."""

    model_dir: str = ""  # a model name from the store or a folder; empty: the bundled model
    device: str = "auto"
    top_k: int = DEFAULT_TOP_K
    max_answer_len: int | None = None
    doc_stride: int | None = None

    def resolved_model_dir(self) -> Path:
        """The folder of the chosen model: a name from the model store, or a folder."""
        return resolve_model(self.model_dir or None)

    def same_engine(self, other: EngineSettings) -> bool:
        """Whether an engine opened for these settings serves ``other`` too."""
        return (self.model_dir, self.device) == (other.model_dir, other.device)

    def choices(self) -> Choices:
        """How the reader wants questions read: what they set, the model's own where they set nothing."""
        return Choices(top_k=self.top_k, max_answer_len=self.max_answer_len, doc_stride=self.doc_stride)


def _stored_number(raw: object, name: str) -> int | None:
    """A stored whole number within the resolver's limits for ``name``, else None: a hand-edited or
    damaged file never stops a question (files written before None was stored said 0)."""
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return None
    low, high = LIMITS[name]
    return value if max(low, 1) <= value <= high else None


class Store:
    """Typed access to the settings file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self._qsettings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def engine_settings(self) -> EngineSettings:
        defaults = EngineSettings()
        value = self._qsettings.value
        return EngineSettings(
            model_dir=str(value("engine/model_dir", defaults.model_dir) or ""),
            device=device if (device := str(value("engine/device", defaults.device))) in DEVICES else defaults.device,
            top_k=_stored_number(value("engine/top_k"), "top_k") or defaults.top_k,
            max_answer_len=_stored_number(value("engine/max_answer_len"), "max_answer_len"),
            doc_stride=_stored_number(value("engine/doc_stride"), "doc_stride"),
        )

    def save_engine_settings(self, settings: EngineSettings) -> None:
        for f in fields(EngineSettings):
            stored = getattr(settings, f.name)
            self._qsettings.setValue(f"engine/{f.name}", "" if stored is None else stored)
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

    def _places(self) -> list[list]:
        """[file, place] pairs, the last read first; a damaged entry is dropped, never an error."""
        try:
            entries = json.loads(str(self._qsettings.value("places/recent", "[]")))
        except ValueError:
            return []
        if not isinstance(entries, list):
            return []
        return [
            [str(entry[0]), entry[1]]
            for entry in entries
            if isinstance(entry, list) and len(entry) == 2 and type(entry[1]) is int and entry[1] >= 0
        ]

    def place(self, origin: str) -> int | None:
        """Where in ``origin``'s text the reader was (a character), if it is among the last ``MAX_PLACES`` read."""
        return next((place for path, place in self._places() if path == origin), None)

    def save_place(self, origin: str, place: int) -> None:
        entries = [[origin, max(0, int(place))]] + [e for e in self._places() if e[0] != origin]
        self._qsettings.setValue("places/recent", json.dumps(entries[:MAX_PLACES]))
        self._qsettings.sync()

    def forget_place(self, origin: str) -> None:
        self._qsettings.setValue("places/recent", json.dumps([e for e in self._places() if e[0] != origin]))
        self._qsettings.sync()

    def reopens_last(self) -> bool:
        """Whether the window opens the last document when it starts (the reader's choice; off at first)."""
        return str(self._qsettings.value("start/reopen_last", "false")).lower() == "true"

    def save_reopens_last(self, reopen: bool) -> None:
        self._qsettings.setValue("start/reopen_last", "true" if reopen else "false")
        self._qsettings.sync()

    def theme(self) -> str:
        """ "system", "light" or "dark" (View > Theme); a damaged value is the system's."""
        theme = str(self._qsettings.value("view/theme", "system"))
        return theme if theme in ("system", "light", "dark") else "system"

    def save_theme(self, theme: str) -> None:
        self._qsettings.setValue("view/theme", theme)
        self._qsettings.sync()

    def zoom(self) -> int:
        """Steps of text size above (or below) the default."""
        return self._int("view/zoom")

    def _int(self, key: str) -> int:
        try:
            return int(self._qsettings.value(key, 0))
        except (TypeError, ValueError):
            return 0

    def save_zoom(self, steps: int) -> None:
        self._qsettings.setValue("view/zoom", steps)
        self._qsettings.sync()

    def page_zoom(self) -> int:
        """Steps of page size around the page's width fitting the view."""
        return self._int("view/page_zoom")

    def save_page_zoom(self, steps: int) -> None:
        self._qsettings.setValue("view/page_zoom", steps)
        self._qsettings.sync()

    def shows_pages(self) -> bool:
        """Whether a paged document (PDF) opens as its pages (else as its text), the reader's last choice."""
        return str(self._qsettings.value("view/pages", "true")).lower() != "false"

    def save_shows_pages(self, pages: bool) -> None:
        self._qsettings.setValue("view/pages", "true" if pages else "false")
        self._qsettings.sync()

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self._qsettings.value("window/geometry"), self._qsettings.value("window/splitter")

    def save_window_state(self, geometry: QByteArray, splitter: QByteArray) -> None:
        self._qsettings.setValue("window/geometry", geometry)
        self._qsettings.setValue("window/splitter", splitter)
        self._qsettings.sync()
