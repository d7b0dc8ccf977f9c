"""A model folder: an ONNX QA model, its ``tokenizer.json`` and an optional ``reading_assistant.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

from reading_assistant.core.errors import ModelError
from reading_assistant.core.options import check_model_config

CONFIG_NAME = "reading_assistant.json"
TOKENIZER_NAME = "tokenizer.json"
PREFERRED_MODELS = ("model_quantized.onnx", "model.onnx")


@dataclass(frozen=True)
class ModelConfig:
    """Settings stored beside the model; every field has a default so a bare export also loads."""

    name: str = ""
    onnx_file: str = ""
    seq_len: int = 384
    query_len: int = 64
    doc_stride: int = 128
    max_answer_len: int = 30
    # The distinct answers' log weights are divided by this before their softmax (fitted on held-out data).
    temperature: float = 1.0
    # No answer when the null odds (null logit - best span logit) are above this (SQuAD 2.0 convention).
    null_threshold: float = 0.0
    # The no-answer probability shown is sigmoid((null odds - null_threshold) / null_scale): one half
    # where the app starts to say "not in this document", as steep as held-out data says.
    null_scale: float = 1.0
    # Windows per model call. A dynamically quantized int8 model measures its activations' range
    # over the whole batch, so a window's answer would depend on its batch-mates: such models read
    # one window per call (the stage-4 model on full dev-v1.1: F1 79.08 at batch 1, 78.87 at batch 32).
    # A folder that does not say reads one too: slower for a float model, never wrong.
    batch_size: int = 1


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
