"""The engine end to end on tiny real ONNX models: signatures, batching, fallback, cancel, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from reading_assistant.core import runtime
from reading_assistant.core.engine import open_engine
from reading_assistant.core.errors import Cancelled, InputError, ModelError
from reading_assistant.core.options import Choices
from reading_assistant.core.windows import WindowSettings

DOCUMENT = (
    "Marie Curie was a physicist and chemist who conducted research on radioactivity. "
    "She was the first woman to win a Nobel Prize, in 1903, and won again in 1911. "
) * 12
QUESTION = "When did Marie Curie win the Nobel Prize?"


def check_prediction(prediction, text: str) -> None:
    assert prediction.answers
    for answer in prediction.answers:
        assert answer.text == text[answer.start : answer.end]
        assert 0.0 <= answer.score <= 1.0
    assert sum(a.score for a in prediction.answers) + prediction.no_answer_score <= 1.0 + 1e-6
    # Best first by the probability shown (each answer's variants included), never a lower one above a higher.
    scores = [a.score for a in prediction.answers]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_bert_fixed", "tiny_distilbert"])
def test_every_signature_answers(fixture, request):
    engine = open_engine(request.getfixturevalue(fixture), device="cpu")
    prediction = engine.ask(DOCUMENT, QUESTION, Choices(top_k=5))
    check_prediction(prediction, DOCUMENT)
    assert prediction.windows > 1
    assert engine.device_name == "CPU"


def test_signature_is_read_from_the_model(tiny_bert_fixed, tiny_distilbert):
    fixed = open_engine(tiny_bert_fixed).model.signature
    assert (fixed.start_output, fixed.end_output) == ("output_s", "output_e")
    assert (fixed.fixed_batch, fixed.fixed_length) == (1, 384)
    assert "token_type_ids" not in open_engine(tiny_distilbert).model.signature.inputs


def test_fixed_shape_export_gives_the_same_answers(tiny_bert, tiny_bert_fixed):
    dynamic_engine, fixed_engine = open_engine(tiny_bert), open_engine(tiny_bert_fixed)
    dynamic = dynamic_engine.ask(DOCUMENT, QUESTION, Choices(top_k=5, batch_size=8))
    fixed = fixed_engine.ask(DOCUMENT, QUESTION, Choices(top_k=5))
    assert [(a.start, a.end) for a in dynamic.answers] == [(a.start, a.end) for a in fixed.answers]
    np.testing.assert_allclose([a.score for a in dynamic.answers], [a.score for a in fixed.answers], atol=1e-4)


def test_batch_size_does_not_change_answers(tiny_bert):
    engine = open_engine(tiny_bert)
    one = engine.ask(DOCUMENT, QUESTION, Choices(batch_size=1))
    eight = engine.ask(DOCUMENT, QUESTION, Choices(batch_size=8))
    assert [(a.start, a.end) for a in one.answers] == [(a.start, a.end) for a in eight.answers]
    np.testing.assert_allclose([a.score for a in one.answers], [a.score for a in eight.answers], atol=1e-5)


def test_ask_many_matches_ask(tiny_bert):
    engine = open_engine(tiny_bert)
    documents = [DOCUMENT, "Paris is the capital of France.", DOCUMENT[:300]]
    questions = [QUESTION, "What is the capital of France?", "Who was Marie Curie?"]
    many = engine.ask_many([(engine.tokenize_document(d), q) for d, q in zip(documents, questions, strict=True)])
    for prediction, document, question in zip(many, documents, questions, strict=True):
        single = engine.ask(document, question)
        assert [(a.start, a.end) for a in prediction.answers] == [(a.start, a.end) for a in single.answers]


SMALL_WINDOWS = Choices(seq_len=64, query_len=16, doc_stride=32)


def test_window_settings_are_choices_of_each_read_on_the_same_tokens(tiny_bert):
    engine = open_engine(tiny_bert)
    large = engine.ask(DOCUMENT, QUESTION)
    tokens = engine.tokenize_document(DOCUMENT)
    small = engine.ask(DOCUMENT, QUESTION, SMALL_WINDOWS)
    assert small.windows > large.windows
    assert engine.tokenize_document(DOCUMENT) is tokens  # tokenized once, whatever the windows
    assert engine.resolve(SMALL_WINDOWS).windows == WindowSettings(64, 16, 32)
    assert engine.resolve().windows == WindowSettings(384, 64, 128)  # the model's own, still
    with pytest.raises(InputError, match="doc_stride from the test must be between"):
        engine.ask(DOCUMENT, QUESTION, Choices(doc_stride=0), source="the test")


def test_progress_is_reported_and_cancel_stops_between_batches(tiny_bert):
    engine = open_engine(tiny_bert)
    seen: list[tuple[int, int]] = []
    engine.ask(
        DOCUMENT, QUESTION, Choices(batch_size=2).over(SMALL_WINDOWS), on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
    batches: list[int] = []
    with pytest.raises(Cancelled):
        engine.ask(
            DOCUMENT,
            QUESTION,
            Choices(batch_size=2).over(SMALL_WINDOWS),
            on_progress=lambda d, t: batches.append(d),
            should_stop=lambda: len(batches) >= 1,
        )
    assert batches == [2]


def test_gpu_request_without_a_gpu_falls_back_to_cpu(tiny_bert):
    engine = open_engine(tiny_bert, device="gpu")
    assert engine.device_name == "CPU"
    assert engine.model.warnings
    check_prediction(engine.ask(DOCUMENT, QUESTION), DOCUMENT)


def test_directml_that_cannot_start_falls_back(tiny_bert, monkeypatch):
    # DirectML exists only on Windows: pretend this onnxruntime lists it, as onnxruntime-directml
    # does. The real session then cannot start it and must continue on the CPU.
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["DmlExecutionProvider", "CPUExecutionProvider"])
    assert runtime.choose_providers("auto", ort.get_available_providers())[0] == "DmlExecutionProvider"
    engine = open_engine(tiny_bert, device="auto")
    assert engine.device_name == "CPU"
    assert any("DirectML" in w for w in engine.model.warnings)
    check_prediction(engine.ask(DOCUMENT, QUESTION), DOCUMENT)


def test_gpu_that_fails_while_running_falls_back(tiny_bert):
    engine = open_engine(tiny_bert)

    class BrokenGpuSession:
        """Stands in for a CUDA session whose kernels fail (no GPU here)."""

        def get_providers(self):
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]

        def run(self, *args, **kwargs):
            raise RuntimeError("CUDA error: out of memory")

    engine.model._session = BrokenGpuSession()
    prediction = engine.ask(DOCUMENT, QUESTION)
    check_prediction(prediction, DOCUMENT)
    assert engine.device_name == "CPU"
    assert any("CUDA" in w for w in engine.model.warnings)


def test_bad_inputs_raise_clear_errors(tiny_bert, tmp_path):
    engine = open_engine(tiny_bert)
    with pytest.raises(InputError, match="document is empty"):
        engine.ask("  \n ", QUESTION)
    with pytest.raises(InputError, match="question is empty"):
        engine.ask(DOCUMENT, "   ")
    with pytest.raises(InputError):
        runtime.choose_providers("tpu", [])


def test_broken_model_folders_raise_model_errors(tiny_bert, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        open_engine(tmp_path / "missing")
    no_tokenizer = tmp_path / "no_tokenizer"
    no_tokenizer.mkdir()
    shutil.copy(tiny_bert / "model.onnx", no_tokenizer / "model.onnx")
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        open_engine(no_tokenizer)
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tiny_bert, corrupt)
    (corrupt / "model.onnx").write_bytes(b"this is not an onnx file")
    with pytest.raises(ModelError, match="cannot load the model"):
        open_engine(corrupt)
    bad_config = tmp_path / "bad_config"
    shutil.copytree(tiny_bert, bad_config)
    (bad_config / "reading_assistant.json").write_text("{not json")
    with pytest.raises(ModelError):
        open_engine(bad_config)


def test_model_config_is_used(tiny_bert, tmp_path):
    folder = tmp_path / "configured"
    shutil.copytree(tiny_bert, folder)
    (folder / "reading_assistant.json").write_text(
        '{"name": "tiny", "seq_len": 128, "query_len": 16, "doc_stride": 64, "null_threshold": 1e9, "batch_size": 1}'
    )
    engine = open_engine(Path(folder))
    assert engine.name == "tiny"
    assert engine.resolve().windows == WindowSettings(128, 16, 64)
    assert engine.resolve().batch_size == 1
    assert engine.ask(DOCUMENT, QUESTION).has_answer


def test_a_long_tokenization_stops_when_asked_and_is_shared_by_concurrent_callers(tiny_bert):
    import threading

    from reading_assistant.core.errors import Cancelled

    engine = open_engine(tiny_bert)
    book = DOCUMENT * 2000  # many tokenizer chunks
    with pytest.raises(Cancelled):
        engine.prepare(book, should_stop=lambda: True)
    assert engine._tokenizing == {}  # nothing left claiming the document
    results = []
    callers = [threading.Thread(target=lambda: results.append(engine.tokenize_document(book))) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(results) == 3 and all(tokens is results[0] for tokens in results)  # tokenized once


def test_one_window_a_call_is_read_at_its_own_length(tiny_bert):
    # The CPU reads one window a call, so a short last window (or a short document) is never padded
    # to seq_len: its cost follows its tokens.
    engine = open_engine(tiny_bert, device="cpu")
    widths = []
    original = engine.model.run

    def recording(inputs):
        widths.append(inputs["input_ids"].shape)
        return original(inputs)

    engine.model.run = recording
    choices = Choices(batch_size=1).over(SMALL_WINDOWS)
    engine.ask(DOCUMENT * 3, QUESTION, choices)
    assert len(widths) >= 2 and all(batch == 1 for batch, _ in widths)
    assert max(width for _, width in widths) == SMALL_WINDOWS.seq_len
    assert widths[-1][1] < SMALL_WINDOWS.seq_len, "the last window is as long as its tokens"
    engine.ask("Marie Curie won the Nobel Prize in 1903.", QUESTION, choices)
    assert widths[-1][1] < SMALL_WINDOWS.seq_len // 2
