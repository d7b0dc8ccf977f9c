"""The Python API: the command line's JSON from a script, batches, progress and stopping."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reading_assistant.api import Cancelled, InputError, ModelError, open_reader
from reading_assistant.core import model_store

TEXT = (
    "Marie Curie was born in Warsaw, Poland. She won the Nobel Prize in 1903 and moved to Paris.\n"
    "The quick brown fox jumps over the lazy dog near the river bank.\n"
) * 30


def without_seconds(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "seconds"}


@pytest.fixture()
def document(tmp_path) -> Path:
    path = tmp_path / "curie.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reader(tiny_bert):
    with open_reader(tiny_bert, device="cpu") as opened:
        yield opened


def test_ask_returns_the_command_lines_json(reader, tiny_bert, document):
    options = ["--json", "--top-k", "3", "--model", str(tiny_bert)]
    cli = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", str(document), "Where was she born?", *options],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    )
    expected = without_seconds(json.loads(cli.stdout))
    for source in (document, TEXT):  # a Path names the file, a str is the text itself
        result = reader.ask(source, "Where was she born?", top_k=3)
        assert without_seconds(result) == expected
        assert result["seconds"] >= 0
    assert len(expected["answers"]) == 3


def test_a_model_is_opened_by_name(tiny_bert, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    model_store.add_model(str(tiny_bert), name="named", device="cpu")
    named = open_reader("named", device="cpu")
    assert named.model == "named" and named.device == "CPU"
    assert named.ask(TEXT, "Where?")["model"] == "named"
    with pytest.raises(ModelError, match="no model named"):
        open_reader("unknown-model")


def test_ask_many_answers_each_pair_as_ask_does(reader):
    questions = ["Where was she born?", "When did she win?", "What jumps over the dog?"]
    many = reader.ask_many([(TEXT, q) for q in questions], top_k=2)
    assert [r["question"] for r in many] == questions
    for question, result in zip(questions, many, strict=True):
        alone = reader.ask(TEXT, question, top_k=2)
        assert [a["text"] for a in result["answers"]] == [a["text"] for a in alone["answers"]]
    assert reader.ask_many([]) == []


def test_progress_is_reported_and_a_stop_flag_cancels(reader):
    seen = []
    reader.ask(TEXT, "Where?", max_windows=0, on_progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1] and [d for d, _ in seen] == sorted(d for d, _ in seen)
    stop = threading.Event()

    def stop_after_first(done, total):
        stop.set()

    with pytest.raises(Cancelled):
        reader.ask(TEXT * 5, "Where?", max_windows=0, on_progress=stop_after_first, stop=stop)
    calls = []
    with pytest.raises(Cancelled):
        reader.ask_many([(TEXT, "Where?"), (TEXT, "When?")], max_windows=0, stop=lambda: calls.append(1) or True)
    assert calls == [1]


def test_bad_input_raises_one_clear_error(reader):
    with pytest.raises(InputError, match="question is empty"):
        reader.ask(TEXT, "  ")
    with pytest.raises(InputError, match="no text"):
        reader.ask("   ", "Where?")
    with pytest.raises(InputError, match="top_k"):
        reader.ask(TEXT, "Where?", top_k=0)
    with pytest.raises(InputError, match="unknown option"):
        open_reader(None, device="cpu", colour=3)
    with pytest.raises(InputError, match="document must be a str"):
        reader.ask(42, "Where?")
