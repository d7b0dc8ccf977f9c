"""The model that ships in models/ answers plain questions correctly, through the ask command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reading_assistant.core.engine import QAEngine, open_engine
from reading_assistant.core.options import Choices
from reading_assistant.core.paths import bundled_model_dir

CURIE = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on radioactivity. "
    "She was born in Warsaw in 1867 and moved to Paris in 1891. In 1903 she shared the Nobel Prize "
    "in Physics with Pierre Curie and Henri Becquerel, and in 1911 she won the Nobel Prize in Chemistry."
)


@pytest.fixture(scope="module")
def engine() -> QAEngine:
    return open_engine(bundled_model_dir(), device="cpu")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Where was Marie Curie born?", "Warsaw"),
        ("When did she move to Paris?", "1891"),
        ("Which Nobel Prize did she win in 1911?", "Chemistry"),
    ],
)
def test_bundled_model_answers_plain_questions(engine, question, expected):
    prediction = engine.ask(CURIE, question)
    assert expected in prediction.answers[0].text
    assert prediction.has_answer


def test_ask_uses_the_bundled_model_by_default(tmp_path):
    document = tmp_path / "curie.txt"
    document.write_text(CURIE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", str(document), "Where was Marie Curie born?", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["model"] == "minilm-squad-int8"
    assert payload["answers"][0]["text"] == "Warsaw"
    assert payload["answers"][0]["score"] > payload["no_answer_score"]


def test_bundled_int8_model_reads_one_window_per_call_so_batch_mates_cannot_change_an_answer(engine):
    # Dynamic int8 quantization scales activations over the whole batch: the same window gives
    # different logits beside different windows. Read one at a time, ranked and in-order agree.
    assert engine.resolve().batch_size == 1
    document = " ".join([CURIE] * 12)
    in_order = engine.ask(document, "Where was Marie Curie born?")
    ranked = engine.ask(document, "Where was Marie Curie born?", Choices(ranked=True))
    assert in_order.windows == ranked.windows > 1
    assert [(a.start, a.end) for a in in_order.answers] == [(a.start, a.end) for a in ranked.answers]
    assert [a.logit for a in in_order.answers] == pytest.approx([a.logit for a in ranked.answers], abs=1e-5)
