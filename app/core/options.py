"""One set of rules for how a question is read: the model's own settings unless the user said otherwise.

Every caller (the command line, the window, evaluation, calibration, the bench) states what the
user chose as ``Choices``; ``resolve`` merges it with the model's ``reading_assistant.json`` and
checks every value once, naming where a bad one came from. Every default lives here or in
``ModelConfig``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from .errors import InputError, ModelError
from .ranking import RELEVANCE_WEIGHT
from .windows import WindowSettings

DEVICES = ("auto", "cpu", "gpu")
DEFAULT_TOP_K = 5
# The ranked windows the window reads before its first settled answers; the bench measures the
# F1 after every 8 of them (24 matches reading everything on whole articles and the book).
EARLY_WINDOWS = 24
# Inclusive bounds: generous for any BERT-family model, tight enough that no value can overflow
# an array or read a book one token at a time.
LIMITS = {
    "seq_len": (16, 4096),
    "query_len": (1, 4096),
    "doc_stride": (1, 4096),
    "max_answer_len": (1, 4096),
    "batch_size": (1, 1024),
    "top_k": (1, 100),
    "max_windows": (0, 10_000_000),
}


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
class AskOptions:
    """How one question is read and answered; get it from ``resolve`` or ``QAEngine.options``."""

    top_k: int
    max_answer_len: int
    # Windows per model call; int8 models read one, as their activations are quantized per batch.
    batch_size: int
    # Read the windows most relevant to the question first (BM25), streaming answers as they come.
    ranked: bool = False
    # Stop after this many windows (0: read them all); with ``ranked``, the early-answer mode.
    max_windows: int = 0
    # Weight of each window's BM25 relevance in its spans' scores (0: spans compete on logits alone).
    relevance_weight: float = RELEVANCE_WEIGHT


@dataclass(frozen=True)
class Choices:
    """What the user asked for; None everywhere means the model's own."""

    seq_len: int | None = None
    query_len: int | None = None
    doc_stride: int | None = None
    max_answer_len: int | None = None
    batch_size: int | None = None
    top_k: int | None = None
    max_windows: int | None = None
    ranked: bool | None = None


def check_number(name: str, value: object, source: str) -> int:
    """An integer within ``LIMITS[name]``, or one clear error naming the setting and its source."""
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} from {source} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} from {source} must be between {low:,} and {high:,}, not {value:,}")
    return value


def check_model_config(config: ModelConfig, source: str) -> ModelConfig:
    """Types and ranges of a model's own settings; a bad one is the model folder's fault."""
    try:
        for name in ("seq_len", "query_len", "doc_stride", "max_answer_len", "batch_size"):
            check_number(name, getattr(config, name), source)
        for name in ("temperature", "null_threshold", "null_scale"):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"{name} from {source} must be a finite number, not {value!r}")
        for name in ("temperature", "null_scale"):
            if getattr(config, name) <= 0:
                raise InputError(f"{name} from {source} must be above 0, not {getattr(config, name)!r}")
        for name in ("name", "onnx_file"):
            if not isinstance(getattr(config, name), str):
                raise InputError(f"{name} from {source} must be text, not {getattr(config, name)!r}")
        WindowSettings(config.seq_len, config.query_len, config.doc_stride)
    except InputError as error:
        raise ModelError(str(error)) from None
    return config


def resolve(config: ModelConfig, choices: Choices, source: str = "the settings") -> tuple[WindowSettings, AskOptions]:
    """The window layout and answer options: each choice the user made, else the model's own."""
    given = {f.name: getattr(choices, f.name) for f in fields(Choices) if getattr(choices, f.name) is not None}
    for name, value in given.items():
        if name != "ranked":
            check_number(name, value, source)
    settings = WindowSettings(
        given.get("seq_len", config.seq_len),
        given.get("query_len", config.query_len),
        given.get("doc_stride", config.doc_stride),
    )
    options = AskOptions(
        top_k=given.get("top_k", DEFAULT_TOP_K),
        max_answer_len=given.get("max_answer_len", config.max_answer_len),
        batch_size=given.get("batch_size", config.batch_size),
        ranked=bool(given.get("ranked", False)),
        max_windows=given.get("max_windows", 0),
    )
    return settings, options


def adjust(options: AskOptions, source: str = "the settings", **changes: object) -> AskOptions:
    """``options`` with some values changed, each checked as ``resolve`` checks it."""
    for name, value in changes.items():
        if name in LIMITS:
            check_number(name, value, source)
    return replace(options, **changes)
