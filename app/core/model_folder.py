"""A model folder: an ONNX QA model, its ``tokenizer.json`` and an optional ``reading_assistant.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import ModelError
from .options import ModelConfig, check_model_config

CONFIG_NAME = "reading_assistant.json"
TOKENIZER_NAME = "tokenizer.json"
PREFERRED_MODELS = ("model_quantized.onnx", "model.onnx")


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    onnx_path: Path
    tokenizer_path: Path
    config: ModelConfig

    @classmethod
    def open(cls, path: Path) -> ModelFolder:
        path = Path(path).expanduser()
        if not path.is_dir():
            raise ModelError(f"model folder not found: {path}")
        config = check_model_config(_read_config(path / CONFIG_NAME), str(path / CONFIG_NAME))
        onnx_path = path / config.onnx_file if config.onnx_file else _find_onnx(path)
        if not onnx_path.is_file():
            raise ModelError(f"the model folder {path} has no ONNX model {onnx_path.name}")
        tokenizer_path = path / TOKENIZER_NAME
        if not tokenizer_path.is_file():
            raise ModelError(f"the model folder {path} has no {TOKENIZER_NAME}")
        if not config.name:
            config = replace(config, name=path.name)
        return cls(path, onnx_path, tokenizer_path, config)


def _read_config(path: Path) -> ModelConfig:
    if not path.exists():
        return ModelConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"cannot read {path}: {error}") from error
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
    candidates = sorted(path.glob("*.onnx"))
    if not candidates:
        raise ModelError(f"the model folder {path} has no .onnx file")
    return candidates[0]
