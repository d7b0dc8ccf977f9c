"""A model folder: an ONNX QA model, its ``tokenizer.json``, an optional ``reading_assistant.json``
and an optional ``model_fp16.onnx``, the same model for GPUs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import ModelError
from .memory import memory_note, windows_that_fit
from .model_shape import ModelShape, read_shape, read_small_json
from .options import ModelConfig, check_model_config, check_model_file

CONFIG_NAME = "reading_assistant.json"
TOKENIZER_NAME = "tokenizer.json"
PREFERRED_MODELS = ("model_quantized.onnx", "model.onnx")
# The same model in fp16, which GPU providers run (an int8 graph is a CPU format): taken instead of
# the folder's model when the model runs on a GPU (training/export_fp16.py makes it from int8).
GPU_MODEL_NAME = "model_fp16.onnx"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    onnx_path: Path
    tokenizer_path: Path
    config: ModelConfig
    gpu_onnx_path: Path | None = None

    @classmethod
    def open(cls, path: Path, source: str | None = None) -> ModelFolder:
        """The folder's model and settings, checked against the model's shape and this machine's
        memory before anything is run: a batch too big for the memory free is lowered, a window
        longer than the model's positions is refused. ``source`` names the settings in messages
        (the folder being added, rather than its copy)."""
        path = Path(path).expanduser()
        if not path.is_dir():
            raise ModelError(f"model folder not found: {path}")
        source = source or str(path / CONFIG_NAME)
        config = check_model_config(_read_config(path / CONFIG_NAME), source)
        onnx_path = path / config.onnx_file if config.onnx_file else _find_onnx(path)
        if not onnx_path.is_file():
            raise ModelError(f"the model folder {path} has no ONNX model {onnx_path.name}")
        tokenizer_path = path / TOKENIZER_NAME
        if not tokenizer_path.is_file():
            raise ModelError(f"the model folder {path} has no {TOKENIZER_NAME}")
        gpu_onnx_path = path / GPU_MODEL_NAME
        if not gpu_onnx_path.is_file() or gpu_onnx_path == onnx_path:
            gpu_onnx_path = None
        for model_path in filter(None, (onnx_path, gpu_onnx_path)):
            for location in read_shape(model_path).external_files:
                check_model_file("its external data", location, str(model_path))
        config = fit_to_model(config, read_shape(onnx_path), source)
        if not config.name:
            config = replace(config, name=path.name)
        return cls(path, onnx_path, tokenizer_path, config, gpu_onnx_path)


def fit_to_model(config: ModelConfig, shape: ModelShape, source: str) -> ModelConfig:
    """Settings the model and this machine can run: windows within its positions, batches within
    the memory free (lowered, with a warning, when the folder asks for more)."""
    if shape.positions and config.seq_len > shape.positions:
        raise ModelError(
            f"seq_len from {source} is {config.seq_len:,}, beyond the {shape.positions:,} positions the model has"
        )
    fits = windows_that_fit(shape, config.seq_len, config.batch_size)
    if fits < 1:
        raise ModelError(f"the model cannot run here: {memory_note(shape, 1, config.seq_len)}")
    if fits < config.batch_size:
        log.warning(
            "batch_size %s from %s asks too much memory (%s): reading %s windows per call",
            config.batch_size,
            source,
            memory_note(shape, config.batch_size, config.seq_len),
            fits,
        )
        config = replace(config, batch_size=fits)
    return config


def _read_config(path: Path) -> ModelConfig:
    if not path.exists():
        return ModelConfig()
    try:
        raw = read_small_json(path)
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path}: {error}") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{path} must hold a JSON object")
    known = {f.name: f.type for f in fields(ModelConfig)}
    try:
        return ModelConfig(**{k: v for k, v in raw.items() if k in known})
    except TypeError as error:
        raise ModelError(f"{path} has a bad setting: {error}") from error


def _find_onnx(path: Path) -> Path:
    for name in PREFERRED_MODELS:
        if (path / name).is_file():
            return path / name
    # The GPU's model only where it is the folder's one model.
    candidates = sorted(path.glob("*.onnx"), key=lambda candidate: (candidate.name == GPU_MODEL_NAME, candidate.name))
    if not candidates:
        raise ModelError(f"the model folder {path} has no .onnx file")
    return candidates[0]
