"""Where a model's work really runs.

onnxruntime places each node of a graph on one execution provider when the session starts, and a
GPU provider quietly leaves to the CPU the nodes it has no kernel for: the provider a session was
asked for says little. The placement is read from onnxruntime's profiler over one run: each node's
provider, and its share of the model's work, estimated from its shapes (a matrix product's
multiply-adds, else the values it writes), so the share means the same on every device. The
profiler writes into the app's cache folder, never the working directory, and the file is removed
once read.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import onnxruntime as ort

from .paths import cache_dir

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
GPU_PROVIDERS = ("DmlExecutionProvider", "CUDAExecutionProvider", "CoreMLExecutionProvider")
# The providers given a folder's fp16 model (``model_folder.GPU_MODEL_NAME``): CoreML has no kernels
# for its fused operators and would leave them to the CPU, which runs fp16 slowly.
FP16_PROVIDERS = ("CUDAExecutionProvider", "DmlExecutionProvider")
PROVIDER_NAMES = {
    "DmlExecutionProvider": "DirectML",
    "CUDAExecutionProvider": "CUDA",
    "CoreMLExecutionProvider": "CoreML",
    CPU: "CPU",
}
PROFILE_FOLDER = "profiles"
# One run of a transformer writes a few hundred kB of profile; a bigger file is not read.
MAX_PROFILE_BYTES = 64 * 2**20
# Operators whose work is a matrix product: (values written) x (the first input's last dimension).
# The profile lists a node's computed inputs only, never its stored weights, so the work is read
# from the first input and the output.
MATRIX_OPS = frozenset(
    {
        "MatMul",
        "MatMulInteger",
        "Gemm",
        "FusedMatMul",
        "MatMulNBits",
        "QGemm",
        "MatMulIntegerToFloat",
        "QLinearMatMul",
        "DynamicQuantizeMatMul",
    }
)
# Fused attention: the input's projection to queries, keys and values (three times the output's
# width), then the scores and their weighted sum (2 x batch x tokens x tokens x width).
ATTENTION_OPS = frozenset({"Attention", "QAttention"})
_profile_numbers = itertools.count()


@dataclass(frozen=True)
class Placement:
    """The provider a model was started on and each provider's share of its work (summing to 1;
    empty when it could not be measured). ``reason`` says why a model asked for a GPU runs on the CPU."""

    provider: str
    shares: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""

    @classmethod
    def on_cpu(cls, reason: str = "") -> Placement:
        return cls(CPU, {CPU: 1.0}, reason)

    @property
    def device_name(self) -> str:
        """The device that does most of the work: "CPU", "CUDA", "DirectML" or "CoreML"."""
        main = max(self.shares, key=self.shares.__getitem__) if self.shares else self.provider
        return PROVIDER_NAMES.get(main, main)

    def describe(self) -> str:
        """One line for the reader: "GPU (CUDA), 100% of the model's work", "CPU: ..." or "CPU"."""
        if self.provider == CPU:
            return f"CPU: {self.reason}" if self.reason else "CPU"
        name = PROVIDER_NAMES.get(self.provider, self.provider)
        if not self.shares:
            return f"GPU ({name}), where its nodes run not measured"
        share = self.shares.get(self.provider, 0.0)
        if share <= 0:
            return f"CPU: the GPU provider ({name}) could not take this model"
        rest = "" if _percent(share) == "100%" else " (the rest on the CPU)"
        return f"GPU ({name}), {_percent(share)} of the model's work{rest}"


def _percent(share: float) -> str:
    return f"{100 * share:.1f}".removesuffix(".0") + "%"


def profile_into_cache(options: ort.SessionOptions) -> Path | None:
    """Make a session about to start write its profile into the cache folder: the profile's path
    less onnxruntime's "_<time>.json" (None, and no profile, when that folder cannot be written)."""
    folder = cache_dir() / PROFILE_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.info("no placement measured: cannot write to %s (%s)", folder, error)
        return None
    prefix = folder / f"placement-{os.getpid()}-{next(_profile_numbers)}"
    options.enable_profiling = True
    options.profile_file_prefix = str(prefix)
    return prefix


def discard_profile(prefix: Path) -> None:
    """Remove the profile a session that failed to start may have begun (onnxruntime opens the
    file as the session starts)."""
    for path in prefix.parent.glob(f"{prefix.name}_*.json"):
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            log.info("cannot remove the profile %s: %s", path, error)


def finish_profile(session: ort.InferenceSession, provider: str) -> Placement:
    """End a profiled session's profiling and read where its nodes ran: ``provider`` is the one it
    was started on. The profile file is removed, read or not."""
    try:
        written = session.end_profiling()
    except Exception as error:  # onnxruntime raises several unrelated exception types
        log.info("no placement measured: the profiler failed (%s)", error)
        return Placement(provider)
    if not written:
        return Placement(provider)
    path = Path(written)
    try:
        work = work_by_provider(path)
    except (OSError, ValueError) as error:
        log.info("no placement measured: cannot read the profile %s (%s)", path, error)
        work = {}
    finally:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            log.info("cannot remove the profile %s: %s", path, error)
    total = sum(work.values())
    return Placement(provider, {name: amount / total for name, amount in work.items()} if total > 0 else {})


def work_by_provider(profile: Path) -> dict[str, float]:
    """How much of the work in an onnxruntime profile each provider did (``node_work``)."""
    if profile.stat().st_size > MAX_PROFILE_BYTES:
        raise ValueError(f"the profile is bigger than {MAX_PROFILE_BYTES // 2**20} MB")
    with open(profile, encoding="utf-8") as stream:
        events = json.load(stream)
    if not isinstance(events, list):
        raise ValueError("the profile is not a list of events")
    work: dict[str, float] = {}
    for event in events:
        if not isinstance(event, dict) or event.get("cat") != "Node":
            continue
        details = event.get("args")
        if not isinstance(details, dict) or not isinstance(details.get("provider"), str):
            continue
        if not str(event.get("name", "")).endswith("_kernel_time"):
            continue  # the fences around each kernel
        provider = details["provider"]
        work[provider] = work.get(provider, 0.0) + node_work(
            str(details.get("op_name", "")),
            _shapes(details.get("input_type_shape")),
            _shapes(details.get("output_type_shape")),
        )
    return work


def node_work(op: str, inputs: list[list[int]], outputs: list[list[int]]) -> float:
    """About how much arithmetic a node did: multiply-adds for matrix products and attention, else
    one operation for each value written (at least one, so that every node counts)."""
    first = inputs[0] if inputs else []
    output = outputs[0] if outputs else []
    if op in MATRIX_OPS and first and output:
        return float(math.prod(output) * first[-1])
    if op in ATTENTION_OPS and len(first) == 3 and output:
        batch, tokens, _ = first
        width = output[-1]
        return float(math.prod(first) * 3 * width + 2 * batch * tokens * tokens * width)
    return float(max(1, sum(math.prod(shape) for shape in outputs)))


def _shapes(entries: object) -> list[list[int]]:
    """The shapes in a profile's ``[{"float": [1, 384]}, ...]``; an unreadable one is empty."""
    if not isinstance(entries, list):
        return []
    shapes = []
    for entry in entries:
        dims = next(iter(entry.values()), None) if isinstance(entry, dict) and len(entry) == 1 else None
        valid = isinstance(dims, list) and all(isinstance(d, int) and d >= 0 for d in dims)
        shapes.append(dims if valid else [])
    return shapes
