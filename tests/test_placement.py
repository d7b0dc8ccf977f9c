"""Where the model's work runs: onnxruntime's profiler read on the bundled models, the provider
choice, and what the reader is told when no GPU can run the model."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from reading_assistant.core import runtime, runtime_install
from reading_assistant.core.model_folder import ModelFolder
from reading_assistant.core.model_shape import read_shape
from reading_assistant.core.paths import bundled_model_dir, cache_dir
from reading_assistant.core.placement import (
    CPU,
    PROFILE_FOLDER,
    Placement,
    finish_profile,
    profile_into_cache,
    work_by_provider,
)

WINDOW = 384


def profiled_session(model) -> ort.InferenceSession:
    options = runtime.session_options([CPU], 1)
    assert profile_into_cache(options)
    return ort.InferenceSession(str(model), options, providers=[CPU])


def window_feed(length: int = WINDOW) -> dict[str, np.ndarray]:
    ids = np.full((1, length), 1000, dtype=np.int64)
    ids[0, 0], ids[0, -1] = 101, 102
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def profile_files() -> list:
    folder = cache_dir() / PROFILE_FOLDER
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture(scope="module")
def bundled() -> ModelFolder:
    return ModelFolder.open(bundled_model_dir())


@pytest.mark.parametrize("which", ["onnx_path", "gpu_onnx_path"])
def test_the_profiler_counts_a_windows_multiply_adds(bundled, which, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = getattr(bundled, which)
    session = profiled_session(model)
    session.run(None, window_feed())
    profile = Path(session.end_profiling())
    assert profile.parent == cache_dir() / PROFILE_FOLDER
    try:
        work = work_by_provider(profile)
    finally:
        profile.unlink()
    assert list(work) == [CPU]
    # What the model's shape says a window costs: each layer's four matrix products and its attention.
    shape = read_shape(model)
    per_layer = WINDOW * shape.hidden * (4 * shape.hidden + 2 * shape.intermediate) + 2 * WINDOW * WINDOW * shape.hidden
    expected = shape.layers * per_layer
    assert expected * 0.98 <= work[CPU] <= expected * 1.05, (work[CPU] / 1e9, expected / 1e9)
    assert not list(tmp_path.iterdir()), "the profile went to the cache folder, not the working directory"


def test_a_profiled_run_says_where_it_ran_and_leaves_no_file(bundled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = profiled_session(bundled.gpu_onnx_path)
    session.run(None, window_feed(64))
    placement = finish_profile(session, CPU)
    assert placement.shares == {CPU: 1.0}
    assert placement.device_name == "CPU"
    assert profile_files() == []
    assert not list(tmp_path.iterdir())


def test_an_unreadable_profile_leaves_the_placement_unmeasured(tmp_path):
    broken = cache_dir() / PROFILE_FOLDER / "broken.json"
    broken.parent.mkdir(parents=True, exist_ok=True)

    class ProfiledSession:
        def end_profiling(self) -> str:
            return str(broken)

    for content in ("{not json", json.dumps({"cat": "Node"}), json.dumps([{"cat": "Node", "args": []}])):
        broken.write_text(content)
        placement = finish_profile(ProfiledSession(), "CUDAExecutionProvider")
        assert not placement.shares
        assert placement.describe() == "GPU (CUDA), where its nodes run not measured"
        assert not broken.exists()


def test_what_the_reader_is_told_of_each_placement():
    cuda = "CUDAExecutionProvider"
    assert Placement(cuda, {cuda: 1.0}).describe() == "GPU (CUDA), 100% of the model's work"
    assert Placement(cuda, {cuda: 0.99996, CPU: 0.00004}).describe() == "GPU (CUDA), 100% of the model's work"
    mixed = Placement(cuda, {cuda: 0.625, CPU: 0.375})
    assert mixed.describe() == "GPU (CUDA), 62.5% of the model's work (the rest on the CPU)"
    assert mixed.device_name == "CUDA"
    mostly_cpu = Placement("DmlExecutionProvider", {"DmlExecutionProvider": 0.2, CPU: 0.8})
    assert mostly_cpu.device_name == "CPU"
    assert Placement(cuda, {CPU: 1.0}).describe() == "CPU: the GPU provider (CUDA) could not take this model"
    assert Placement.on_cpu().describe() == "CPU"
    assert Placement.on_cpu("CUDA could not be started").describe() == "CPU: CUDA could not be started"


def test_auto_never_takes_coreml_but_gpu_may():
    mac = ["CoreMLExecutionProvider", CPU]
    assert runtime.choose_providers("auto", mac) == [CPU]
    assert runtime.choose_providers("gpu", mac) == ["CoreMLExecutionProvider", CPU]
    assert runtime.choose_providers("cpu", mac) == [CPU]
    for gpu in ("CUDAExecutionProvider", "DmlExecutionProvider"):
        assert runtime.choose_providers("auto", [gpu, CPU]) == [gpu, CPU]


def test_a_gpu_asked_for_without_one_says_in_one_line_what_to_install(tiny_bert, monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CPU])
    model = runtime.OnnxQAModel(tiny_bert / "model.onnx", device="gpu")
    (warning,) = model.warnings
    assert "\n" not in warning and warning.endswith("using the CPU")
    if sys.platform.startswith("linux"):
        assert runtime_install.CUDA_RUNTIME in warning and "pip uninstall -y onnxruntime" in warning
    assert model.placement.describe() == "CPU: no GPU runtime is installed"
    assert model.device_name == "CPU"


def test_two_onnxruntime_packages_are_named_with_the_command_that_keeps_one(monkeypatch):
    assert runtime_install.runtime_conflict() == "", "this environment has one onnxruntime"
    both = {"onnxruntime": "1.32.0", "onnxruntime-gpu": "1.31.1"}
    monkeypatch.setattr(runtime_install, "installed_runtimes", lambda: both)
    message = runtime_install.runtime_conflict()
    assert "onnxruntime 1.32.0, onnxruntime-gpu 1.31.1" in message
    uninstall, _, install = message.partition(" && ")
    assert uninstall.endswith("-m pip uninstall -y onnxruntime onnxruntime-directml")
    assert install.endswith(f"-m pip install {runtime_install.CUDA_RUNTIME}")


def test_the_probe_window_fits_every_model(tiny_bert_fixed):
    # A fixed-shape export takes only its own batch and length: the placement probe must fit it.
    model = runtime.OnnxQAModel(tiny_bert_fixed / "model.onnx", device="cpu")
    probe = model._probe()
    assert all(value.shape == (model.signature.fixed_batch, model.signature.fixed_length) for value in probe.values())
    start, end = model.run({ours: probe[name] for ours, name in model.signature.inputs.items()})
    assert math.isfinite(float(start.max())) and math.isfinite(float(end.max()))
