"""The bundled model's fp16 form for GPUs: made from the int8 model by training/export_fp16.py,
answering as the int8 one does, taken on a GPU provider and never on the CPU."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import replace

import onnxruntime as ort
import pytest

from reading_assistant.core.engine import GPU_BATCH, QAEngine, open_engine
from reading_assistant.core.model_folder import GPU_MODEL_NAME, ModelFolder
from reading_assistant.core.options import Choices
from reading_assistant.core.paths import bundled_model_dir, cache_dir
from reading_assistant.core.placement import PROFILE_FOLDER, PROVIDER_NAMES

DOCUMENT = (
    "The Amazon River in South America is the largest river by discharge volume of water in the world. "
    "It rises in the Andes of Peru and flows east for about 6,400 kilometres to the Atlantic Ocean.\n\n"
    "Ada Lovelace was an English mathematician who worked with Charles Babbage on his proposed "
    "mechanical general-purpose computer, the Analytical Engine. She published the first algorithm "
    "intended to be carried out by such a machine in 1843.\n\n"
    "The Eiffel Tower was built by the company of Gustave Eiffel for the 1889 World's Fair in Paris. "
    "It is 330 metres tall and was the tallest man-made structure in the world for 41 years.\n\n"
)
QUESTIONS = {
    "Where does the Amazon River rise?": "Andes",
    "Who did Ada Lovelace work with?": "Charles Babbage",
    "When did Lovelace publish the first algorithm?": "1843",
    "How tall is the Eiffel Tower?": "330 metres",
    "For which event was the Eiffel Tower built?": "World's Fair",
}
# A document of many windows, so that batches hold several of them.
BOOK = DOCUMENT * 12


@pytest.fixture(scope="module")
def bundled() -> ModelFolder:
    return ModelFolder.open(bundled_model_dir())


@pytest.fixture(scope="module")
def int8_engine(bundled) -> QAEngine:
    return QAEngine(bundled, "cpu")


@pytest.fixture(scope="module")
def fp16_engine(bundled) -> QAEngine:
    """The fp16 model run on the CPU, which onnxruntime can do (slowly) by casting around its fp16 nodes."""
    return QAEngine(replace(bundled, onnx_path=bundled.gpu_onnx_path), "cpu")


def test_the_bundled_folder_has_the_fp16_model_and_the_cpu_keeps_int8(bundled, int8_engine):
    assert bundled.gpu_onnx_path == bundled.path / GPU_MODEL_NAME
    assert bundled.onnx_path.name == "model.onnx"
    assert int8_engine.model.path == bundled.onnx_path
    assert open_engine(device="auto").model.path == bundled.onnx_path, "no GPU here: auto reads int8"


def test_the_fp16_model_is_what_export_fp16_makes_of_the_int8_one(bundled):
    onnx = pytest.importorskip("onnx")
    from reading_assistant.training.export_fp16 import to_fp16

    made = to_fp16(onnx.load(bundled.onnx_path))
    assert made.SerializeToString() == bundled.gpu_onnx_path.read_bytes()
    operators = {node.op_type for node in made.graph.node}
    assert not operators & {"DynamicQuantizeLinear", "MatMulInteger", "QAttention"}
    assert {"MatMul", "Attention"} <= operators


def test_the_export_refuses_a_model_it_does_not_know(tiny_bert):
    onnx = pytest.importorskip("onnx")
    from reading_assistant.training.export_fp16 import PatternError, to_fp16

    with pytest.raises(PatternError, match="not a dynamically quantized model"):
        to_fp16(onnx.load(tiny_bert / "model.onnx"))


def test_fp16_and_int8_give_the_same_answers(int8_engine, fp16_engine):
    for question, expected in QUESTIONS.items():
        int8 = int8_engine.ask(DOCUMENT, question).answers[0]
        fp16 = fp16_engine.ask(DOCUMENT, question).answers[0]
        assert expected in int8.text
        assert (fp16.start, fp16.end) == (int8.start, int8.end), question
        assert fp16.score == pytest.approx(int8.score, abs=0.1)


def test_fp16_answers_the_same_at_every_batch_size(fp16_engine):
    question = next(iter(QUESTIONS))
    readings = [fp16_engine.ask(BOOK, question, Choices(batch_size=size)) for size in (1, 3, 8)]
    first = readings[0]
    assert first.windows > 8
    for reading in readings[1:]:
        assert [(a.start, a.end) for a in reading.answers] == [(a.start, a.end) for a in first.answers]
        assert [a.score for a in reading.answers] == pytest.approx([a.score for a in first.answers], abs=1e-3)


@pytest.mark.parametrize(
    ("provider", "device", "given"),
    [
        ("CUDAExecutionProvider", "auto", GPU_MODEL_NAME),
        ("DmlExecutionProvider", "auto", GPU_MODEL_NAME),
        ("CoreMLExecutionProvider", "gpu", "model.onnx"),  # CoreML has no kernels for the fp16 model's fused nodes
    ],
)
def test_a_gpu_that_onnxruntime_drops_reads_with_the_int8_model(bundled, provider, device, given, monkeypatch, caplog):
    # onnxruntime-gpu lists CUDA, then quietly starts the session on the CPU where CUDA's libraries
    # are missing (as on this machine, with onnxruntime-gpu installed): the engine must notice, say
    # so, and read with int8.
    monkeypatch.setattr(ort, "get_available_providers", lambda: [provider, "CPUExecutionProvider"])
    with caplog.at_level(logging.INFO, logger="reading_assistant"), pytest.warns(UserWarning):
        engine = open_engine(device=device)
    started = f"onnxruntime started {bundled.path / given} without {provider}"
    assert started in [record.getMessage() for record in caplog.records]
    assert engine.model.path == bundled.onnx_path
    assert engine.device_name == "CPU"
    name = PROVIDER_NAMES[provider]
    assert engine.placement == f"CPU: {name} could not be started"
    (warning,) = engine.warnings
    assert warning.startswith(f"{name} could not be started") and warning.endswith("; using the CPU")
    folder = cache_dir() / PROFILE_FOLDER
    assert not folder.is_dir() or not list(folder.iterdir()), "the started profile was removed"
    question, expected = next(iter(QUESTIONS.items()))
    assert expected in engine.ask(DOCUMENT, question).answers[0].text


def test_ask_says_once_what_runs_the_model_and_what_to_install(tiny_bert, tmp_path):
    document = tmp_path / "lovelace.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    command = [sys.executable, "-m", "reading_assistant", "ask", str(document), "Who did Ada Lovelace work with?"]
    result = subprocess.run(
        [*command, "--json", "--device", "gpu", "--model", str(tiny_bert)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["device"] == "CPU"
    assert payload["placement"] == "CPU: no GPU runtime is installed"
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("warning: no GPU runtime is installed") and warning.endswith("using the CPU")


def test_on_a_gpu_the_fp16_model_reads_in_batches_and_the_cpu_one_window_a_call(int8_engine, fp16_engine, monkeypatch):
    assert int8_engine.resolve().batch_size == 1  # int8 answers depend on their batch-mates
    assert fp16_engine.resolve().batch_size == 1  # the fp16 file on the CPU provider: not a GPU read
    # No GPU here: the session's provider is said to be CUDA's, as onnxruntime reports it on one.
    monkeypatch.setattr(type(fp16_engine.model), "provider", property(lambda _: "CUDAExecutionProvider"))
    assert fp16_engine.resolve().batch_size == GPU_BATCH
    assert fp16_engine.resolve(Choices(batch_size=4)).batch_size == 4  # a read's own choice stands
