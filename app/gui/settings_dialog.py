"""The settings dialog: model folder, device, and how answers are searched."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from reading_assistant.core.options import DEVICES
from reading_assistant.core.paths import bundled_model_dir
from reading_assistant.gui.settings import EngineSettings

DEVICE_LABELS = {"auto": "Automatic (GPU if available)", "cpu": "CPU", "gpu": "GPU"}


class SettingsDialog(QDialog):
    def __init__(self, settings: EngineSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        form = QFormLayout(self)

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
        model_label = QLabel("&Model folder:")
        model_label.setBuddy(self.model_dir)
        form.addRow(model_label, model_row)

        self.device = QComboBox()
        for value in DEVICES:
            label = DEVICE_LABELS[value]
            self.device.addItem(label, value)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        form.addRow("&Device:", self.device)

        self.top_k = self._spin(1, 20, settings.top_k, "How many answers to list")
        form.addRow("&Answers shown:", self.top_k)
        self.max_answer_len = self._spin(0, 100, settings.max_answer_len, "Longest answer, in tokens")
        self.max_answer_len.setSpecialValueText("Model's own")
        form.addRow("Longest &answer (tokens):", self.max_answer_len)
        self.doc_stride = self._spin(0, 256, settings.doc_stride, "Tokens between the starts of two windows")
        self.doc_stride.setSpecialValueText("Model's own")
        form.addRow("Window &stride (tokens):", self.doc_stride)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self._restore_defaults)
        form.addRow(buttons)

    @staticmethod
    def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder", self.model_dir.text())
        if folder:
            self.model_dir.setText(folder)

    def _restore_defaults(self) -> None:
        defaults = EngineSettings()
        self.model_dir.setText(defaults.model_dir)
        self.device.setCurrentIndex(self.device.findData(defaults.device))
        self.top_k.setValue(defaults.top_k)
        self.max_answer_len.setValue(defaults.max_answer_len)
        self.doc_stride.setValue(defaults.doc_stride)

    def result_settings(self) -> EngineSettings:
        return replace(
            self._settings,
            model_dir=self.model_dir.text().strip(),
            device=self.device.currentData(),
            top_k=self.top_k.value(),
            max_answer_len=self.max_answer_len.value(),
            doc_stride=self.doc_stride.value(),
        )
