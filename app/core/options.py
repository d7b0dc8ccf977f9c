"""One set of rules for how a question is read: the model's own settings unless the user said otherwise.

Every caller (the command line, the window, the API, the server, evaluation, calibration, the
bench) states what it asks of a read as ``Choices``, where None is always "the model's own";
``resolve`` merges them with the model's ``reading_assistant.json`` (``ModelConfig``) and checks
every value once, naming where a bad one came from, for each read: changing a choice never
reloads a model. Every default lives here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import PurePosixPath, PureWindowsPath

from .errors import InputError, ModelError
from .ranking import RELEVANCE_WEIGHT, SECTION_WEIGHT
from .windows import WindowSettings

DEVICES = ("auto", "cpu", "gpu")
DEFAULT_TOP_K = 5
# The ranked windows the early answers come from (``EARLY_ANSWERS``); the bench measures the F1
# after every 8 of them (24 matches reading everything on whole articles and the book).
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
# Windows advance by at least seq_len / this many tokens: no token is read more than this many
# times, so a document's windows are never more than this many times its tokens (a step of one
# token would read a book's every token seq_len times).
MAX_READS_PER_TOKEN = 32


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
    # Every window read adds its candidates, which spreads the shares of a long read: the temperature
    # falls from ``temperature`` (one window, as fitted on paragraphs) towards ``many_windows_temperature``
    # as ``1 / windows ** temperature_decay`` (fitted on long documents; 0: one temperature for all).
    many_windows_temperature: float = 0.0
    temperature_decay: float = 0.0
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

    def temperature_for(self, windows: int) -> float:
        """The temperature for the answers of a read that took ``windows`` windows."""
        if self.many_windows_temperature <= 0 or self.temperature_decay <= 0:
            return self.temperature
        far = self.many_windows_temperature
        return far + (self.temperature - far) / max(1, windows) ** self.temperature_decay


@dataclass(frozen=True)
class Choices:
    """What a caller asks of one read; None everywhere means the model's own (or, for the answers
    listed, the order and the window budget, the app's default)."""

    seq_len: int | None = None
    query_len: int | None = None
    doc_stride: int | None = None
    max_answer_len: int | None = None
    batch_size: int | None = None
    top_k: int | None = None
    max_windows: int | None = None
    ranked: bool | None = None
    relevance_weight: float | None = None
    section_weight: float | None = None

    def over(self, base: Choices) -> Choices:
        """These choices where they say something, ``base``'s where they say nothing."""
        return replace(
            base, **{f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
        )


# Nothing chosen: the model's own settings and the app's defaults, everywhere.
MODELS_OWN = Choices()
# The early answers, one preset for the window, ``ask``, the API and the server: the windows most
# relevant to the question first, answered from the first ``EARLY_WINDOWS`` of them. The window
# reads on past them (and stops there only when they settle on "no answer"); the others stop.
EARLY_ANSWERS = Choices(ranked=True, max_windows=EARLY_WINDOWS)


@dataclass(frozen=True)
class ReadOptions:
    """How one read goes, every value resolved: get it from ``resolve`` (or ``QAEngine.resolve``)."""

    windows: WindowSettings
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
    # Weight of the heading of each window's section in its spans' scores (0: headings play no part).
    section_weight: float = SECTION_WEIGHT


def check_number(name: str, value: object, source: str) -> int:
    """An integer within ``LIMITS[name]``, or one clear error naming the setting and its source."""
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} from {source} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise InputError(f"{name} from {source} must be between {low:,} and {high:,}, not {value:,}")
    return value


def check_step(windows: WindowSettings, source: str) -> WindowSettings:
    """Windows that advance far enough that reading a document costs a bounded multiple of its length."""
    shortest = math.ceil(windows.seq_len / MAX_READS_PER_TOKEN)
    if windows.doc_stride < shortest:
        raise InputError(
            f"doc_stride from {source} must be at least {shortest} for windows of {windows.seq_len} tokens, "
            f"not {windows.doc_stride}: a shorter step reads every token more than {MAX_READS_PER_TOKEN} times"
        )
    return windows


def check_model_file(name: str, value: str, source: str) -> str:
    """A file a model folder names: a relative path inside the folder (no drive, no root, no '..'),
    so a model uses only its own files; anything else is the folder's fault."""
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if "\0" in value or posix.is_absolute() or windows.anchor or ".." in posix.parts or ".." in windows.parts:
        raise ModelError(f"{name} from {source} must be a file inside the model folder, not {value!r}")
    return value


def check_model_config(config: ModelConfig, source: str) -> ModelConfig:
    """Types and ranges of a model's own settings; a bad one is the model folder's fault."""
    try:
        for name in ("seq_len", "query_len", "doc_stride", "max_answer_len", "batch_size"):
            check_number(name, getattr(config, name), source)
        for name in ("temperature", "null_threshold", "null_scale", "many_windows_temperature", "temperature_decay"):
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"{name} from {source} must be a finite number, not {value!r}")
        for name in ("temperature", "null_scale"):
            if getattr(config, name) <= 0:
                raise InputError(f"{name} from {source} must be above 0, not {getattr(config, name)!r}")
        for name in ("many_windows_temperature", "temperature_decay"):
            if getattr(config, name) < 0:
                raise InputError(f"{name} from {source} must be 0 or more, not {getattr(config, name)!r}")
        for name in ("name", "onnx_file"):
            if not isinstance(getattr(config, name), str):
                raise InputError(f"{name} from {source} must be text, not {getattr(config, name)!r}")
        check_model_file("onnx_file", config.onnx_file, source)
        check_step(WindowSettings(config.seq_len, config.query_len, config.doc_stride), source)
    except InputError as error:
        raise ModelError(str(error)) from None
    return config


def resolve(
    config: ModelConfig, choices: Choices = MODELS_OWN, source: str = "the settings", fixed_length: int | None = None
) -> ReadOptions:
    """Everything a read needs: each choice the caller made, else the model's own; a model exported
    for one window length (``fixed_length``, as OpenVINO's 1x384) reads exactly that many tokens."""
    given = {f.name: getattr(choices, f.name) for f in fields(Choices) if getattr(choices, f.name) is not None}
    for name, value in given.items():
        if name in LIMITS:
            check_number(name, value, source)
    if "ranked" in given and not isinstance(given["ranked"], bool):
        raise InputError(f"ranked from {source} must be true or false, not {given['ranked']!r}")
    weights = {"relevance_weight": RELEVANCE_WEIGHT, "section_weight": SECTION_WEIGHT}
    for name, default in weights.items():
        weight = weights[name] = given.get(name, default)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < math.inf:
            raise InputError(f"{name} from {source} must be a number of 0 or more, not {weight!r}")
    windows = WindowSettings(
        given.get("seq_len", config.seq_len),
        given.get("query_len", config.query_len),
        given.get("doc_stride", config.doc_stride),
    )
    if fixed_length is not None and fixed_length != windows.seq_len:
        windows = replace(windows, seq_len=fixed_length)
    check_step(windows, source if {"seq_len", "doc_stride"} & given.keys() else "the model's settings")
    return ReadOptions(
        windows=windows,
        top_k=given.get("top_k", DEFAULT_TOP_K),
        max_answer_len=given.get("max_answer_len", config.max_answer_len),
        batch_size=given.get("batch_size", config.batch_size),
        ranked=given.get("ranked", False),
        max_windows=given.get("max_windows", 0),
        relevance_weight=float(weights["relevance_weight"]),
        section_weight=float(weights["section_weight"]),
    )
