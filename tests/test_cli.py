"""The ``reading-assistant ask`` contract, run as a real process."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reading_assistant import cli

TEXT = (
    "Café Curie — the physicist 📚 won the Nobel Prize in 1903.\n"
    "She was born in Warsaw, Poland, and later worked in Paris.\n"
) * 10


def ask(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.fixture()
def document(tmp_path) -> Path:
    path = tmp_path / "curie.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    return path


def test_json_output_follows_the_contract(document, tiny_bert):
    result = ask(str(document), "Where was she born?", "--json", "--top-k", "4", "--model", str(tiny_bert))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) >= {"question", "answers", "no_answer_score", "model", "device", "windows", "seconds"}
    assert payload["question"] == "Where was she born?"
    assert payload["device"] == "CPU"
    assert 1 <= len(payload["answers"]) <= 4
    scores = [a["score"] for a in payload["answers"]]
    # Each score holds the probabilities of the overlapping variants merged into that answer.
    assert all(0 <= s <= 1 for s in [*scores, payload["no_answer_score"]])
    assert sum(scores) + payload["no_answer_score"] <= 1 + 1e-6
    spans = sorted((a["start"], a["end"]) for a in payload["answers"])
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))  # distinct
    content = document.read_bytes().decode("utf-8")
    for answer in payload["answers"]:
        assert set(answer) == {"text", "start", "end", "score"}
        assert content[answer["start"] : answer["end"]] == answer["text"]


def test_standard_input_and_readable_output(tiny_bert):
    result = ask("-", "Where was she born?", "--model", str(tiny_bert), stdin=TEXT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].lstrip().startswith("1.") or "does not seem to answer" in lines[0]
    assert "%" in result.stdout


def test_window_options_change_the_window_count(document, tiny_bert):
    counts = []
    for seq_len in ("384", "64"):
        result = ask(
            str(document),
            "Where?",
            "--json",
            "--model",
            str(tiny_bert),
            "--seq-len",
            seq_len,
            "--query-len",
            "16",
            "--doc-stride",
            "32",
            "--max-answer-len",
            "5",
        )
        assert result.returncode == 0, result.stderr
        counts.append(json.loads(result.stdout)["windows"])
    assert counts[1] > counts[0]


def test_window_layout_is_the_models_own_unless_given(document, tiny_bert, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_bert, model)
    config_path = model / "reading_assistant.json"
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    config.update(seq_len=64, query_len=16, doc_stride=16)
    config_path.write_text(json.dumps(config))

    def windows(*options: str) -> int:
        assert cli.main(["ask", str(document), "Where?", "--json", "--model", str(model), *options]) == 0
        return json.loads(capsys.readouterr().out)["windows"]

    own, wider = windows(), windows("--doc-stride", "40")
    config["doc_stride"] = 40
    config_path.write_text(json.dumps(config))
    assert own > wider == windows()


def test_max_windows_reads_only_the_best_matching_windows(tmp_path, tiny_bert, capsys):
    filler = "Gardens, rivers and weather fill this page without naming anyone at all. " * 60
    book = tmp_path / "book.txt"
    book.write_text(filler + "Marie Curie was born in Warsaw. " + filler, encoding="utf-8")
    common = ["ask", str(book), "Where was Marie Curie born?", "--json", "--model", str(tiny_bert)]

    assert cli.main(common) == 0
    everything = json.loads(capsys.readouterr().out)
    assert cli.main([*common, "--max-windows", "2"]) == 0
    early = json.loads(capsys.readouterr().out)
    assert everything["windows"] > 2 == early["windows"]
    text = book.read_text(encoding="utf-8")
    for answer in early["answers"]:
        assert text[answer["start"] : answer["end"]] == answer["text"]
        # The two windows that share the question's words both hold the one sentence naming Curie.
        assert abs(answer["start"] - text.index("Marie Curie")) < 2000
    assert cli.main([*common, "--max-windows", "-1"]) == 2


@pytest.mark.parametrize(
    ("make", "question", "message"),
    [
        (lambda d: d / "missing.txt", "Where?", "no such file"),
        (lambda d: _write(d / "blank.txt", b"  \n"), "Where?", "has no text"),
        (lambda d: _write(d / "doc.txt", TEXT.encode()), "   ", "question is empty"),
        (lambda d: _write(d / "blob.txt", b"\x00\x01\x02binary"), "Where?", "binary"),
        (lambda d: _write(d / "odd.txt", b"\xff\xfeA"), "Where?", "UTF-16"),
        (lambda d: _write(d / "sheet.xlsx", b"PK\x03\x04"), "Where?", "unsupported"),
        (lambda d: d, "Where?", "folder"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, tiny_bert, make, question, message):
    result = ask(str(make(tmp_path)), question, "--model", str(tiny_bert))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_or_corrupt_model_exits_2(document, tmp_path):
    result = ask(str(document), "Where?", "--model", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "model folder not found" in result.stderr
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "model.onnx").write_bytes(b"junk")
    (corrupt / "tokenizer.json").write_text("{}")
    result = ask(str(document), "Where?", "--model", str(corrupt))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_a_bundled_model_the_error_asks_for_one(document, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "bundled_model_dir", lambda: tmp_path / "models" / "none")
    assert cli.main(["ask", str(document), "Where?"]) == 2
    assert "--model" in capsys.readouterr().err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_readable_output_shows_percentages_as_the_window_does():
    from reading_assistant.core.decoding import Answer
    from reading_assistant.core.documents import Document
    from reading_assistant.core.reading import Prediction

    document = Document(text="Curie was born in Warsaw.", name="curie.txt", format="text")
    guess = Answer("Warsaw", 18, 24, 0.003, 1.0)
    shown = cli.format_prediction(
        Prediction("What is the capital of Peru?", [guess], 0.997, 5.0, False, 1, 0.0), document
    )
    assert "(over 99% no answer)" in shown
    assert "1. under 1%  Warsaw" in shown  # not "0.0%", which reads as nothing


def test_an_answer_across_a_wrapped_line_is_printed_on_one_line():
    """A hard-wrapped text file (GPL-3 and most plain-text books) has line breaks inside answers."""
    from reading_assistant.core.decoding import Answer
    from reading_assistant.core.documents import Document
    from reading_assistant.core.reading import Prediction

    text = "Modified versions must be marked as\nchanged, so that problems are not attributed to others."
    document = Document(text=text, name="gpl.txt", format="text")
    answer = Answer("marked as\nchanged", text.index("marked"), text.index("changed") + 7, 0.4, 1.0)
    shown = cli.format_prediction(Prediction("What must be done?", [answer], 0.1, -5.0, True, 1, 0.0), document)
    assert shown.splitlines()[0] == "1.      40%  marked as changed"
