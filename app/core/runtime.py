"""onnxruntime session for an extractive QA model: provider choice, the GPU's model, signature
adaptation, fallback, and where the model's work runs (``placement``)."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .device_timing import (
    GPU_TIMED_WINDOWS,
    TIMED_TOKENS,
    DeviceTiming,
    cached_timing,
    ms_per_window,
    store_timing,
    timing_key,
)
from .errors import InputError, ModelError
from .memory import memory_note, windows_that_fit
from .model_shape import read_shape
from .options import DEVICES
from .placement import (
    CPU,
    FP16_PROVIDERS,
    GPU_PROVIDERS,
    PROVIDER_NAMES,
    Placement,
    discard_profile,
    finish_profile,
    profile_into_cache,
)
from .runtime_install import NEEDS, no_gpu_message, runtime_conflict

log = logging.getLogger(__name__)

# CoreML runs int8 graphs many times slower than the CPU (measured by other projects): "auto" does
# not take it unmeasured (the QA model measures, ``device_timing``; the embedder never does).
NOT_AUTOMATIC = ("CoreMLExecutionProvider",)
# The window one model run places the graph with: short, so loading stays quick.
PROBE_TOKENS = 64
# Names that exporters give the three inputs and the two outputs, first match wins.
INPUT_ALIASES = {
    "input_ids": ("input_ids", "input_word_ids"),
    "attention_mask": ("attention_mask", "input_mask"),
    "token_type_ids": ("token_type_ids", "segment_ids", "input_type_ids"),
}
INTEGER_TYPES = ("tensor(int64)", "tensor(int32)")
FLOAT_TYPES = ("tensor(float)", "tensor(float16)", "tensor(double)")
START_NAMES = ("start_logits", "output_s", "start_scores", "start_positions")
END_NAMES = ("end_logits", "output_e", "end_scores", "end_positions")
# onnxruntime's own log (coloured, with its C++ source lines) never reaches the reader's terminal:
# fatal only. Its errors come back as exceptions, whose whole text goes to the app's log file.
ORT_QUIET = 4
# "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : " before the sentence that matters, and the C++
# source line and function inside it ("/onnxruntime_src/.../element_wise_ops.h:583 void f(int) ").
ORT_ERROR_PREFIX = re.compile(r"^\s*\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*")
ORT_SOURCE_LINE = re.compile(r"\S+\.(?:h|hpp|cc|cpp):\d+\s+(?:[\w:<>~*&, ]+\([^)]*\)\s*)?")
ERROR_LINE_CHARS = 300
# onnxruntime's CPU kernel for the fused residual layer norm is slower than the plain operators it
# replaces (``training.cpu_graph`` measured it and unfuses the bundled model): CPU sessions keep them apart.
CPU_DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def choose_providers(device: str, available: list[str]) -> list[str]:
    """Execution providers to try, best first; the CPU always comes last as the fallback."""
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    chosen = [p for p in GPU_PROVIDERS if p in available] if device != "cpu" else []
    if device == "auto":
        chosen = [p for p in chosen if p not in NOT_AUTOMATIC]
    return [*chosen[:1], CPU]


def installed_gpus() -> list[str]:
    """The GPU runtimes this install of onnxruntime offers, by name ("CUDA", "DirectML"); empty when
    only the CPU can run the model."""
    available = ort.get_available_providers()
    return [PROVIDER_NAMES[p] for p in GPU_PROVIDERS if p in available]


@dataclass(frozen=True)
class Signature:
    """How this model names and shapes its inputs and outputs."""

    inputs: dict[str, str]  # our name -> the model's name
    dtypes: dict[str, type]
    start_output: str
    end_output: str
    fixed_batch: int | None
    fixed_length: int | None

    @classmethod
    def of(cls, session: ort.InferenceSession) -> Signature:
        model_inputs = {i.name: i for i in session.get_inputs()}
        inputs: dict[str, str] = {}
        dtypes: dict[str, type] = {}
        for ours, aliases in INPUT_ALIASES.items():
            name = next((a for a in aliases if a in model_inputs), None)
            if name is None:
                continue
            inputs[ours] = name
            dtypes[ours] = np.int32 if model_inputs[name].type == "tensor(int32)" else np.int64
        if "input_ids" not in inputs:
            raise ModelError(f"the model has no input_ids input (it has {', '.join(model_inputs)})")
        for name in inputs.values():
            _check_tensor("input", name, model_inputs[name].shape, model_inputs[name].type, INTEGER_TYPES)
        unknown = set(model_inputs) - set(inputs.values())
        if unknown:
            raise ModelError(f"the model needs inputs this app cannot give: {', '.join(sorted(unknown))}")
        outputs = [o.name for o in session.get_outputs()]
        start = next((n for n in START_NAMES if n in outputs), None)
        end = next((n for n in END_NAMES if n in outputs), None)
        if start is None or end is None:
            if len(outputs) != 2:
                raise ModelError(f"cannot tell the start and end logits apart in outputs {outputs}")
            start, end = outputs
        model_outputs = {o.name: o for o in session.get_outputs()}
        for name in (start, end):
            _check_tensor("output", name, model_outputs[name].shape, model_outputs[name].type, FLOAT_TYPES)
        shape = model_inputs[inputs["input_ids"]].shape
        fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        fixed_length = shape[1] if len(shape) > 1 and isinstance(shape[1], int) and shape[1] > 0 else None
        return cls(inputs, dtypes, start, end, fixed_batch, fixed_length)


def _check_tensor(kind: str, name: str, shape: object, dtype: str, allowed: tuple[str, ...]) -> None:
    """An extractive QA model's inputs and outputs are (batch, tokens): token ids in, one score per token out."""
    if isinstance(shape, list) and len(shape) != 2:
        raise ModelError(
            f"the model's {kind} {name} has {len(shape)} dimensions, where an extractive question-answering "
            "model has 2 (batch, tokens)"
        )
    if dtype not in allowed:
        raise ModelError(f"the model's {kind} {name} is {dtype}, where {' or '.join(allowed)} is needed")


def session_options(providers: list[str], threads: int) -> ort.SessionOptions:
    """How every model of the app runs: its threads, full graph optimisation, and onnxruntime's own
    log silenced (its errors reach the reader as one line; the whole text goes to the log file)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = ORT_QUIET
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if "DmlExecutionProvider" in providers:
        # DirectML does not support memory patterns or parallel execution.
        options.enable_mem_pattern = False
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


def new_session(model: str | bytes, options: ort.SessionOptions, providers: list[str]) -> ort.InferenceSession:
    """An onnxruntime session as the app starts them: on the CPU without the fusions that slow it down."""
    disabled = list(CPU_DISABLED_OPTIMIZERS) if providers[0] == CPU else []
    return ort.InferenceSession(model, options, providers=providers, disabled_optimizers=disabled)


def quiet_run_options() -> ort.RunOptions:
    options = ort.RunOptions()
    options.log_severity_level = ORT_QUIET
    return options


class OnnxQAModel:
    """Runs batches of windows; falls back to the CPU if a GPU provider fails to start or to run.

    CUDA and DirectML run ``gpu_path`` (the folder's fp16 model, ``model_folder.GPU_MODEL_NAME``)
    where there is one; the CPU always runs ``path`` (the int8 model), fallbacks included."""

    def __init__(
        self, path: Path, device: str = "auto", threads: int | None = None, gpu_path: Path | None = None
    ) -> None:
        self.cpu_path = Path(path)
        self.gpu_path = Path(gpu_path) if gpu_path is not None else None
        self.path = self.cpu_path
        self.threads = threads or os.cpu_count() or 1
        self.warnings: list[str] = []
        self.cpu_reason = ""  # why a model asked to run on a GPU runs on the CPU
        conflict = runtime_conflict()
        if conflict:
            self._warn(conflict)
        # "auto" may take any GPU provider, CoreML too, but keeps it only where it was measured faster.
        asked = choose_providers("gpu" if device == "auto" else device, ort.get_available_providers())[0]
        if device == "gpu" and asked == CPU:
            self._fall_back("no GPU runtime is installed", no_gpu_message())
        measure_key, measured = "", None
        if device == "auto" and asked != CPU:
            measure_key = timing_key(asked, self._models_for(asked))
            measured = cached_timing(measure_key)
            if measured is not None:
                log.info("device auto, measured before: %s", measured.describe())
                if not measured.gpu_faster:
                    self._prefer_cpu(measured)
                    asked = CPU
        self._session = self._start([asked, CPU] if asked != CPU else [CPU])
        if asked != CPU and self.provider == CPU and not self.cpu_reason:
            # onnxruntime quietly drops a provider whose libraries are missing (CUDA without its
            # toolkit): end the profile it started, and read with the CPU's own model.
            log.info("onnxruntime started %s without %s", self.path, asked)
            reason = f"{PROVIDER_NAMES[asked]} could not be started"
            self._fall_back(reason, f"{reason} ({NEEDS[asked]}); using the CPU" if asked in NEEDS else "")
            finish_profile(self._session, asked)
            self._session = self._start([CPU])
        self.signature = Signature.of(self._session)
        self.shape = read_shape(self.path)
        self._run_options = quiet_run_options()
        self.placement = self._place(asked)
        if measure_key and measured is None and self.provider != CPU:
            self._keep_gpu_if_faster(measure_key)

    @property
    def provider(self) -> str:
        return self._session.get_providers()[0]

    @property
    def device_name(self) -> str:
        """Where most of the model's work runs, as measured: "CPU", "CUDA", "DirectML" or "CoreML"."""
        return self.placement.device_name

    def _warn(self, message: str) -> None:
        # The log file keeps it; each front end shows ``warnings`` once (a warning logged too would
        # reach the terminal twice).
        log.info(message)
        self.warnings.append(message)

    def _models_for(self, provider: str) -> list[Path]:
        """The model files a GPU provider's figures hold for: the one it runs and the CPU's."""
        if provider in FP16_PROVIDERS and self.gpu_path is not None:
            return [self.gpu_path, self.cpu_path]
        return [self.cpu_path]

    def _prefer_cpu(self, timing: DeviceTiming) -> None:
        """Read on the CPU because it was measured faster: no warning, the placement says why."""
        self.cpu_reason = f"measured faster than the GPU ({timing.describe()})"
        self.placement = Placement.on_cpu(self.cpu_reason)

    def _keep_gpu_if_faster(self, key: str) -> None:
        """Time a full window on the GPU session and on a CPU one, keep the figures, and go on with
        the faster; a GPU that fails while timed gives way to the CPU as in ``_run``."""
        length = self.signature.fixed_length or min(TIMED_TOKENS, self.shape.positions or TIMED_TOKENS)
        gpu_batch = self.signature.fixed_batch or GPU_TIMED_WINDOWS
        cpu_batch = self.signature.fixed_batch or 1
        outputs = [self.signature.start_output, self.signature.end_output]
        gpu_feed, cpu_feed = self._probe(gpu_batch, length), self._probe(cpu_batch, length)
        try:
            gpu_ms = ms_per_window(lambda: self._session.run(outputs, gpu_feed, self._run_options), gpu_batch)
        except Exception as error:  # onnxruntime raises several unrelated exception types
            self._gpu_failed_while_running(error)
            return
        cpu = new_session(str(self.cpu_path), session_options([CPU], self.threads), [CPU])
        timing = DeviceTiming(
            self.provider, gpu_ms, ms_per_window(lambda: cpu.run(outputs, cpu_feed, self._run_options), cpu_batch)
        )
        store_timing(key, timing)
        log.info("device auto, measured: %s", timing.describe())
        if not timing.gpu_faster:
            self._session, self.path = cpu, self.cpu_path
            self._prefer_cpu(timing)

    def _fall_back(self, reason: str, message: str = "") -> None:
        self.cpu_reason = reason
        self.placement = Placement.on_cpu(reason)
        self._warn(message or f"{reason}; using the CPU")

    def _start(self, providers: list[str]) -> ort.InferenceSession:
        on_gpu = providers[0] != CPU
        self.path = self.gpu_path if providers[0] in FP16_PROVIDERS and self.gpu_path is not None else self.cpu_path
        options = session_options(providers, self.threads)
        profile = profile_into_cache(options) if on_gpu else None
        try:
            return new_session(str(self.path), options, providers)
        except Exception as error:  # onnxruntime raises several unrelated exception types
            log.info("onnxruntime could not start %s on %s: %s", self.path, providers[0], error)
            if profile is not None:
                discard_profile(profile)
            if on_gpu:
                name = PROVIDER_NAMES.get(providers[0], providers[0])
                self._fall_back(f"{name} failed to start ({error_line(error)})")
                return self._start([CPU])
            raise ModelError(f"cannot load the model {self.path.name}: {error_line(error)}") from error

    def _place(self, asked: str) -> Placement:
        """Where the model's work runs: on a GPU provider, measured over one profiled run of a
        short window (which also warms the GPU up); on the CPU, all of it."""
        if self.provider == CPU:
            return Placement.on_cpu(self.cpu_reason)
        session = self._session
        try:
            self._run(self._probe())
        finally:
            placement = finish_profile(session, asked)
        if self._session is not session:  # the GPU failed on the probe and the CPU took over
            return self.placement
        log.info("%s runs %s: %s", self.path.name, PROVIDER_NAMES.get(asked, asked), placement.describe())
        return placement

    def _probe(self, batch: int = 1, length: int = 0) -> dict[str, np.ndarray]:
        """Windows of padding tokens, as the model's own inputs: one short window unless told."""
        length = length or self.signature.fixed_length or min(PROBE_TOKENS, self.shape.positions or PROBE_TOKENS)
        shape = (self.signature.fixed_batch or batch, length)
        values = {"input_ids": 0, "attention_mask": 1, "token_type_ids": 0}
        return {
            name: np.full(shape, values[ours], dtype=self.signature.dtypes[ours])
            for ours, name in self.signature.inputs.items()
        }

    def run(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits, shape (batch, length), for model inputs keyed by our names.

        Windows beyond the model's positions are refused; a batch bigger than the memory free can
        take is read in smaller calls."""
        feed = {
            name: inputs[ours].astype(self.signature.dtypes[ours], copy=False)
            for ours, name in self.signature.inputs.items()
        }
        windows, length = inputs["input_ids"].shape
        if self.shape.positions and length > self.shape.positions:
            raise InputError(
                f"windows of {length:,} tokens are beyond the {self.shape.positions:,} positions this model has: "
                f"choose a seq_len of at most {self.shape.positions:,}"
            )
        fits = windows_that_fit(self.shape, length, windows)
        if fits < 1:
            raise InputError(f"{memory_note(self.shape, 1, length)}: choose a shorter seq_len")
        if fits >= windows:
            return self._run(feed)
        log.info("%s: reading %s windows per call", memory_note(self.shape, windows, length), fits)
        parts = [self._run({key: value[i : i + fits] for key, value in feed.items()}) for i in range(0, windows, fits)]
        return np.concatenate([start for start, _ in parts]), np.concatenate([end for _, end in parts])

    def _run(self, feed: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        outputs = [self.signature.start_output, self.signature.end_output]
        try:
            start, end = self._session.run(outputs, feed, self._run_options)
        except Exception as error:
            if self.provider == CPU:
                log.info("onnxruntime failed to run %s on the CPU: %s", self.path, error)
                raise ModelError(f"the model failed to run: {error_line(error)}") from error
            self._gpu_failed_while_running(error)
            return self._run(feed)
        return _checked_scores(start, feed), _checked_scores(end, feed)

    def _gpu_failed_while_running(self, error: Exception) -> None:
        """Go on with the CPU's session and model, saying why."""
        log.info("onnxruntime failed to run %s on %s: %s", self.path, self.provider, error)
        self._fall_back(
            f"{PROVIDER_NAMES.get(self.provider, self.provider)} failed while running ({error_line(error)})"
        )
        self._session = self._start([CPU])


def error_line(error: Exception) -> str:
    """onnxruntime's message as one line for the reader, without its status prefix, its C++ source
    lines or any further lines (the whole text goes to the log file)."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    line = ORT_SOURCE_LINE.sub("", ORT_ERROR_PREFIX.sub("", lines[0])).strip() or type(error).__name__
    return line if len(line) <= ERROR_LINE_CHARS else line[: ERROR_LINE_CHARS - 1] + "…"


def _checked_scores(scores: object, feed: dict[str, np.ndarray]) -> np.ndarray:
    """One finite score per token of each window: anything else is the model's fault, not an answer."""
    scores = np.asarray(scores, dtype=np.float32)
    expected = next(iter(feed.values())).shape
    if scores.shape != expected:
        raise ModelError(f"the model gave scores of shape {scores.shape} for inputs of shape {expected}")
    # Masked positions may be -inf by design; NaN or +inf never mean anything.
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ModelError("the model gave invalid scores (NaN or infinity): it may be damaged or wrongly exported")
    return scores
