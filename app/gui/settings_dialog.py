"""The settings dialog, in a reader's terms: which model, where it runs, how many answers, how
careful the reading is (and what that costs), how long an answer may be."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import ReadingAssistantError
from ..core.model_folder import ModelFolder
from ..core.model_store import StoredModel, list_models, resolve_model
from ..core.options import DEVICES, ModelConfig
from ..core.paths import bundled_model_dir
from ..core.runtime import installed_gpus
from ..core.windows import TextTokenizer
from .settings import EngineSettings
from .words import sentence

DEVICE_LABELS = {"auto": "Automatic (the GPU if there is one)", "cpu": "CPU", "gpu": "GPU"}


def times(factor: float) -> str:
    """'twice', '4 times', '1.5 times'."""
    if abs(factor - 2) < 0.05:
        return "twice"
    return f"{factor:.1f}".removesuffix(".0") + " times"


@dataclass(frozen=True)
class Level:
    name: str
    value: int | None  # what is stored: None is the model's own


def check_model_folder(text: str) -> tuple[ModelConfig | None, str]:
    """(the model's config, "") for a usable model (a name, a folder; empty: the bundled model),
    else (None, why not)."""
    try:
        folder = ModelFolder.open(resolve_model(text.strip() or None))
        if folder.onnx_path.stat().st_size == 0:
            return None, f"The model file {folder.onnx_path.name} is empty."
        TextTokenizer.from_file(folder.tokenizer_path)
    except ReadingAssistantError as error:
        return None, sentence(str(error)) + "."
    except Exception as error:  # a tokenizer.json that is not one
        return None, f"The folder's tokenizer cannot be read: {error}."
    return folder.config, ""


def model_label_text(model: StoredModel) -> str:
    """'minilm-squad-int8 (bundled) · 22 MB · 37 ms per window'."""
    speed = f"{model.ms_per_window:.0f} ms per window" if model.ms_per_window else "speed not measured yet"
    bundled = " (bundled)" if model.bundled else ""
    return f"{model.name}{bundled} · {model.size_bytes / 2**20:.0f} MB · {speed}"


def thoroughness_levels(own: int, current: int | None, widest: int | None = None) -> list[Level]:
    """From faster to more careful: the step between passages, as a share of the model's own.

    ``widest`` is the longest step that still leaves no text between two passages unread.
    """
    faster = min(2 * own, widest) if widest else 2 * own
    levels = [
        Level("Faster", faster),
        Level("Standard", None),
        Level("More careful", max(1, own // 2)),
        Level("Most careful", max(1, own // 4)),
    ]
    stored = {level.value for level in levels}
    if faster <= own:
        levels = levels[1:]
    if current and current not in stored and current != own:
        levels.append(Level("Custom", current))
    return sorted(levels, key=lambda level: -(level.value or own))


def two_lines(label: QLabel) -> None:
    """Room for two lines, always: a note that wraps or empties does not resize the dialog."""
    label.setMinimumHeight(2 * label.fontMetrics().lineSpacing())
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)


class SettingsDialog(QDialog):
    def __init__(self, settings: EngineSettings, parent: QWidget | None = None, reopens_last: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        outer = QVBoxLayout(self)
        form = QFormLayout()
        outer.addLayout(form)

        # The installed models by name, with their size and speed; a folder can still be typed.
        self.installed = QComboBox()
        self.installed.setObjectName("installedModels")
        self.installed.addItem("Choose an installed model…", None)
        for model in list_models():
            self.installed.addItem(model_label_text(model), "" if model.bundled else model.name)
        self.installed.activated.connect(self._choose_installed)
        form.addRow("&Installed models:", self.installed)

        self.model_dir = QLineEdit(settings.model_dir)
        self.model_dir.setPlaceholderText(f"Bundled model ({bundled_model_dir().name})")
        self.model_dir.setMinimumWidth(
            self.model_dir.fontMetrics().horizontalAdvance(self.model_dir.placeholderText()) + 24
        )
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_dir, 1)
        model_row.addWidget(browse)
        # A row holding a layout gets no buddy for its label, so Alt+M needs one set by hand.
        model_label = QLabel("&Model (name or folder):")
        model_label.setBuddy(self.model_dir)
        form.addRow(model_label, model_row)
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.model_status.setObjectName("modelStatus")
        self.model_status.setTextFormat(Qt.TextFormat.RichText)
        form.addRow("", self.model_status)
        self.model_dir.editingFinished.connect(self._check_model)

        self.device = QComboBox()
        for value in DEVICES:
            self.device.addItem(DEVICE_LABELS[value], value)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        form.addRow("&Runs on:", self.device)
        # A GPU chosen where none can run says so here, not only in a log.
        self.device_note = QLabel("")
        self.device_note.setWordWrap(True)
        self.device_note.setObjectName("deviceNote")
        self.device_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        two_lines(self.device_note)
        form.addRow("", self.device_note)
        self.device.currentIndexChanged.connect(self._describe_device)
        self._describe_device()

        self.top_k = QSpinBox()
        self.top_k.setRange(1, 20)
        self.top_k.setValue(settings.top_k)
        self.top_k.setToolTip("How many answers to list, best first")
        form.addRow("&Answers listed:", self.top_k)

        self.thoroughness = QSlider(Qt.Orientation.Horizontal)
        self.thoroughness.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.thoroughness.setPageStep(1)
        self.thoroughness.setAccessibleName("Thoroughness")
        self.thoroughness_note = QLabel()
        self.thoroughness_note.setWordWrap(True)
        self.thoroughness_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        two_lines(self.thoroughness_note)
        ends = QHBoxLayout()
        ends.addWidget(QLabel("Faster"))
        ends.addStretch(1)
        ends.addWidget(QLabel("More careful"))
        thorough = QVBoxLayout()
        thorough.addWidget(self.thoroughness)
        thorough.addLayout(ends)
        thorough.addWidget(self.thoroughness_note)
        thorough_label = QLabel("&Thoroughness:")
        thorough_label.setBuddy(self.thoroughness)
        form.addRow(thorough_label, thorough)
        self.thoroughness.valueChanged.connect(self._describe_thoroughness)

        self.answer_length = QComboBox()
        self.answer_length.setToolTip("Longer answers can hold a whole clause; the reading time hardly changes")
        form.addRow("Answer &length:", self.answer_length)

        self.reopen_last = QCheckBox("&Open the last document when the app starts")
        self.reopen_last.setChecked(reopens_last)
        form.addRow("", self.reopen_last)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self._restore_defaults)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        outer.addWidget(buttons)

        self.config: ModelConfig = ModelConfig()
        self._check_model()
        self._fill_levels(settings.doc_stride, settings.max_answer_len)

    # -- the model folder ---------------------------------------------------------------------

    def _choose_installed(self, index: int) -> None:
        name = self.installed.itemData(index)
        if name is not None:
            self.model_dir.setText(name)
            self._check_model()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder", self.model_dir.text())
        if folder:
            self.model_dir.setText(folder)
            self._check_model()

    def _check_model(self) -> bool:
        config, problem = check_model_folder(self.model_dir.text())
        if config is None:
            self.model_status.setText(f"⚠ {html.escape(problem)} Choose a folder with a question-answering model.")
            self.model_status.setToolTip("")
            return False
        self.config = config
        self.model_status.setText(f"✓ {html.escape(config.name or Path(self.model_dir.text()).name)} is ready to use.")
        return True

    # -- thoroughness and answer length --------------------------------------------------------

    def _fill_levels(self, doc_stride: int | None, max_answer_len: int | None) -> None:
        own = self.config.doc_stride
        # Passages hold seq_len tokens less the question (up to query_len) and three special tokens.
        widest = self.config.seq_len - self.config.query_len - 3
        self.levels = thoroughness_levels(own, doc_stride, widest)
        self.thoroughness.blockSignals(True)
        self.thoroughness.setRange(0, len(self.levels) - 1)
        values = [level.value for level in self.levels]
        current = doc_stride if doc_stride in values and doc_stride != own else None
        self.thoroughness.setValue(values.index(current))
        self.thoroughness.blockSignals(False)
        self._describe_thoroughness()

        own_length = self.config.max_answer_len
        self.answer_length.clear()
        options = [
            ("Short: a few words", max(1, own_length // 3)),
            ("Standard: up to a short sentence (the model's own)", None),
            ("Long: up to a long sentence", own_length * 2),
        ]
        if max_answer_len and max_answer_len not in {value for _, value in options} and max_answer_len != own_length:
            options.append((f"Custom: up to about {max(1, round(0.75 * max_answer_len))} words", max_answer_len))
        for name, value in options:
            self.answer_length.addItem(name, value)
        wanted = None if max_answer_len == own_length else max_answer_len
        self.answer_length.setCurrentIndex(max(0, self.answer_length.findData(wanted)))

    def _describe_thoroughness(self) -> None:
        level = self.levels[self.thoroughness.value()]
        own = self.config.doc_stride
        stride = level.value or own
        cost = own / stride
        if abs(cost - 1) < 0.01:
            text = "passages overlap as the model expects; the usual time."
        elif cost < 1:
            text = (
                f"fewer, less overlapping passages; about {times(1 / cost)} as fast, but an answer that "
                "falls where two passages meet may be missed."
            )
        else:
            text = f"more, more overlapping passages; about {times(cost)} the time."
        self.thoroughness_note.setText(f"<b>{level.name}</b>: {text}")

    def thoroughness_cost(self) -> float:
        """How many times the standard reading time the chosen thoroughness takes."""
        level = self.levels[self.thoroughness.value()]
        return self.config.doc_stride / (level.value or self.config.doc_stride)

    def _describe_device(self) -> None:
        gpus = installed_gpus()
        if self.device.currentData() == "cpu":
            note = ""
        elif gpus:
            note = f"GPU runtime installed: {', '.join(gpus)}."
        elif self.device.currentData() == "gpu":
            note = (
                "No GPU runtime is installed here, so the model will run on the CPU "
                "(the Windows installer brings DirectML; elsewhere a GPU needs onnxruntime-gpu)."
            )
        else:
            note = "No GPU runtime is installed here: the CPU runs the model."
        self.device_note.setText(note)

    def reopens_last(self) -> bool:
        return self.reopen_last.isChecked()

    def _restore_defaults(self) -> None:
        defaults = EngineSettings()
        self.model_dir.setText(defaults.model_dir)
        self._check_model()
        self.device.setCurrentIndex(self.device.findData(defaults.device))
        self.top_k.setValue(defaults.top_k)
        self._fill_levels(defaults.doc_stride, defaults.max_answer_len)
        self.reopen_last.setChecked(False)

    def accept(self) -> None:
        """A folder without a usable model is refused here, with the reason, not after a long wait."""
        if not self._check_model():
            self.model_dir.setFocus()
            return
        super().accept()

    def result_settings(self) -> EngineSettings:
        return replace(
            self._settings,
            model_dir=self.model_dir.text().strip(),
            device=self.device.currentData(),
            top_k=self.top_k.value(),
            max_answer_len=self.answer_length.currentData(),
            doc_stride=self.levels[self.thoroughness.value()].value,
        )
