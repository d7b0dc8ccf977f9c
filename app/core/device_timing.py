"""Whether a GPU reads the model faster than the CPU on this machine: measured once, then cached.

A GPU provider is not always the faster choice: a small model on an integrated GPU, CoreML on an
int8 graph, or a GPU busy with something else can read slower than the CPU's int8 kernels. So
``--device auto`` times both the first time it meets a GPU runtime and a model (a few runs of a
full window each) and keeps the figures in the cache folder, keyed by the provider, the
onnxruntime version and the model files (path, size, time); a new model, runtime or file measures
again, and deleting the file does too. ``--device gpu`` never measures: it is the reader's choice.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import onnxruntime as ort

from .paths import cache_dir
from .placement import PROVIDER_NAMES

log = logging.getLogger(__name__)

TIMINGS_NAME = "device-timings.json"
MAX_TIMINGS = 32  # models and runtimes remembered; the oldest are forgotten first
MAX_TIMINGS_BYTES = 2**20
TIMED_TOKENS = 384  # the bundled model's window
GPU_TIMED_WINDOWS = 8  # a GPU reads windows in batches (``engine.GPU_BATCH``); the CPU one at a time
TIMED_RUNS = 3  # after one warm-up run; the fastest counts


@dataclass(frozen=True)
class DeviceTiming:
    """Milliseconds a window on a GPU provider and on the CPU, as measured on this machine."""

    provider: str
    gpu_ms: float
    cpu_ms: float

    @property
    def gpu_faster(self) -> bool:
        return self.gpu_ms < self.cpu_ms

    def describe(self) -> str:
        name = PROVIDER_NAMES.get(self.provider, self.provider)
        return f"{name} {self.gpu_ms:.1f} ms a window, the CPU {self.cpu_ms:.1f} ms"


def timing_key(provider: str, models: Sequence[Path]) -> str:
    """What a measurement holds for: the provider, the runtime and the model files as they are now."""
    parts = [provider, ort.__version__]
    for model in models:
        try:
            stat = model.stat()
            parts.append(f"{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{model}:missing")
    return "|".join(parts)


def _timings_path() -> Path:
    return cache_dir() / TIMINGS_NAME


def _read_timings() -> dict[str, dict]:
    path = _timings_path()
    try:
        if path.stat().st_size > MAX_TIMINGS_BYTES:
            return {}
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def cached_timing(key: str) -> DeviceTiming | None:
    """The measurement stored for ``key``; None when there is none or it cannot be read."""
    entry = _read_timings().get(key)
    try:
        timing = DeviceTiming(str(entry["provider"]), float(entry["gpu_ms"]), float(entry["cpu_ms"]))
    except (TypeError, KeyError, ValueError):
        return None
    return timing if timing.gpu_ms > 0 and timing.cpu_ms > 0 else None


def store_timing(key: str, timing: DeviceTiming) -> None:
    """Keep a measurement (the newest ``MAX_TIMINGS``); a cache folder that cannot be written only
    means measuring again next time."""
    timings = _read_timings()
    timings.pop(key, None)
    timings[key] = {**asdict(timing), "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
    kept = dict(list(timings.items())[-MAX_TIMINGS:])
    path = _timings_path()
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(kept, indent=1), encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        log.info("cannot keep the device timing in %s: %s", path, error)
        partial.unlink(missing_ok=True)


def ms_per_window(run: Callable[[], object], windows: int) -> float:
    """The fastest of ``TIMED_RUNS`` calls of ``run`` (after one to warm up), per window read."""
    run()
    fastest = float("inf")
    for _ in range(TIMED_RUNS):
        started = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - started)
    return 1000 * fastest / windows
