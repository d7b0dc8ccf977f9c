"""``--device auto`` keeps a GPU only where it was measured faster than the CPU, once per model and
runtime. No GPU here: onnxruntime is made to list CUDA and its sessions run on the CPU while
reporting CUDA, so the timing, the cache and the choice run for real on real sessions."""

from __future__ import annotations

import json
import logging

import onnxruntime as ort
import pytest

from reading_assistant.core import device_timing, runtime
from reading_assistant.core.device_timing import DeviceTiming, cached_timing, store_timing, timing_key
from reading_assistant.core.paths import cache_dir
from reading_assistant.core.placement import CPU

CUDA = "CUDAExecutionProvider"
REAL_SESSION = ort.InferenceSession


@pytest.fixture
def cuda_listed(monkeypatch) -> list[list[str]]:
    """onnxruntime lists CUDA; each session runs on the CPU but reports the providers it was asked
    for. Returns the provider lists sessions were started with."""
    started: list[list[str]] = []

    class SessionOnCpuNamedCuda:
        def __init__(self, path, options=None, providers=None, **kwargs):
            started.append(list(providers))
            self._real = REAL_SESSION(path, options, providers=[CPU], **kwargs)
            self._providers = list(providers)

        def get_providers(self) -> list[str]:
            return self._providers

        def __getattr__(self, name):
            return getattr(self._real, name)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", SessionOnCpuNamedCuda)
    return started


def key_of(model_path) -> str:
    return timing_key(CUDA, [model_path])


def test_auto_measures_once_keeps_the_figures_and_goes_on_with_the_faster(tiny_bert, cuda_listed, caplog, monkeypatch):
    model_path = tiny_bert / "model.onnx"
    with caplog.at_level(logging.INFO, logger="reading_assistant"):
        model = runtime.OnnxQAModel(model_path, device="auto")
    timing = cached_timing(key_of(model_path))
    assert timing is not None and timing.provider == CUDA and timing.gpu_ms > 0 and timing.cpu_ms > 0
    assert f"device auto, measured: {timing.describe()}" in caplog.text
    assert not model.warnings, "a measured choice is no problem to warn of"
    if timing.gpu_faster:
        assert model.provider == CUDA
    else:
        assert model.provider == CPU
        assert model.placement.describe() == f"CPU: measured faster than the GPU ({timing.describe()})"

    # Opened again: the figures are read, nothing is timed.
    monkeypatch.setattr(runtime, "ms_per_window", lambda *a: pytest.fail("measured again"))
    again = runtime.OnnxQAModel(model_path, device="auto")
    assert again.provider == model.provider


def test_a_gpu_measured_slower_is_never_started(tiny_bert, cuda_listed):
    model_path = tiny_bert / "model.onnx"
    store_timing(key_of(model_path), DeviceTiming(CUDA, 40.0, 10.0))
    model = runtime.OnnxQAModel(model_path, device="auto")
    assert cuda_listed == [[CPU]]
    assert model.device_name == "CPU" and not model.warnings
    assert model.placement.describe() == "CPU: measured faster than the GPU (CUDA 40.0 ms a window, the CPU 10.0 ms)"


def test_a_gpu_measured_faster_is_taken_without_measuring_again(tiny_bert, cuda_listed, monkeypatch):
    model_path = tiny_bert / "model.onnx"
    store_timing(key_of(model_path), DeviceTiming(CUDA, 2.0, 10.0))
    monkeypatch.setattr(runtime, "ms_per_window", lambda *a: pytest.fail("measured again"))
    model = runtime.OnnxQAModel(model_path, device="auto")
    assert cuda_listed == [[CUDA, CPU]]
    assert model.provider == CUDA


def test_the_gpu_asked_for_is_never_measured(tiny_bert, cuda_listed, monkeypatch):
    store_timing(key_of(tiny_bert / "model.onnx"), DeviceTiming(CUDA, 40.0, 10.0))
    monkeypatch.setattr(runtime, "ms_per_window", lambda *a: pytest.fail("measured"))
    model = runtime.OnnxQAModel(tiny_bert / "model.onnx", device="gpu")
    assert model.provider == CUDA


def test_a_changed_model_or_runtime_is_measured_again(tiny_bert, tmp_path, monkeypatch):
    model_path = tmp_path / "model.onnx"
    model_path.write_bytes((tiny_bert / "model.onnx").read_bytes())
    before = key_of(model_path)
    store_timing(before, DeviceTiming(CUDA, 40.0, 10.0))
    model_path.write_bytes(model_path.read_bytes() + b"\0")
    assert key_of(model_path) != before and cached_timing(key_of(model_path)) is None
    changed = key_of(model_path)
    monkeypatch.setattr(ort, "__version__", "0.0.1")
    assert key_of(model_path) != changed
    assert timing_key("DmlExecutionProvider", [model_path]) != timing_key(CUDA, [model_path])


def test_the_cache_stays_small_and_survives_damage():
    for n in range(device_timing.MAX_TIMINGS + 5):
        store_timing(f"key-{n}", DeviceTiming(CUDA, 1.0 + n, 10.0))
    stored = json.loads((cache_dir() / device_timing.TIMINGS_NAME).read_text())
    assert len(stored) == device_timing.MAX_TIMINGS
    assert cached_timing("key-0") is None and cached_timing(f"key-{device_timing.MAX_TIMINGS + 4}") is not None
    for damage in ("{not json", "[1, 2]", json.dumps({"k": {"provider": CUDA, "gpu_ms": "x"}}), json.dumps({"k": 3})):
        (cache_dir() / device_timing.TIMINGS_NAME).write_text(damage)
        assert cached_timing("k") is None
    store_timing("k", DeviceTiming(CUDA, 1.0, 2.0))
    assert cached_timing("k") == DeviceTiming(CUDA, 1.0, 2.0)


def test_coreml_is_taken_by_auto_only_where_measured_faster(tiny_bert, cuda_listed, monkeypatch):
    coreml = "CoreMLExecutionProvider"
    monkeypatch.setattr(ort, "get_available_providers", lambda: [coreml, CPU])
    model_path = tiny_bert / "model.onnx"
    store_timing(timing_key(coreml, [model_path]), DeviceTiming(coreml, 90.0, 10.0))
    model = runtime.OnnxQAModel(model_path, device="auto")
    assert cuda_listed == [[CPU]] and model.provider == CPU
    assert "CoreML 90.0 ms a window" in model.placement.describe()
    store_timing(timing_key(coreml, [model_path]), DeviceTiming(coreml, 5.0, 10.0))
    assert runtime.OnnxQAModel(model_path, device="auto").provider == coreml
