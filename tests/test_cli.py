"""The ``reading-assistant ask`` contract, run as a real process."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reading_assistant import cli
from reading_assistant.core.logs import log_path

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


# -- no traceback on any standard stream --------------------------------------------------------------


def run(*args: str | bytes, **options) -> subprocess.CompletedProcess:
    """The real command line, its arguments as a shell passes them (bytes need not be UTF-8)."""
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "reading_assistant", *args], timeout=120, check=False, **options)


def test_a_missing_file_whose_name_is_not_utf8_is_refused_in_one_line(tmp_path, tiny_bert):
    result = run("ask", os.fsencode(tmp_path) + b"/miss\xffing.txt", "Where?", "--model", str(tiny_bert))
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == f"reading-assistant: no such file: {tmp_path}/miss\\xffing.txt\n"
    assert f"refused: no such file: {tmp_path}/miss\\udcffing.txt\n" in log_path().read_text(encoding="utf-8")


def test_a_name_with_a_line_break_and_an_escape_sequence_stays_on_one_line(tmp_path, tiny_bert):
    result = run("ask", str(tmp_path / "two\nlines\x1b[31m.txt"), "Where?", "--model", str(tiny_bert))
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode() == f"reading-assistant: no such file: {tmp_path}/two\\nlines\\x1b[31m.txt\n"


def test_a_file_whose_name_is_not_utf8_is_answered(tmp_path, tiny_bert):
    name = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    with open(name, "wb") as file:
        file.write(TEXT.encode("utf-8"))
    result = run("ask", name, "Where was she born?", "--json", "--model", str(tiny_bert))
    assert result.returncode == 0 and result.stderr == b""
    answers = json.loads(result.stdout)["answers"]
    assert answers and all(TEXT[a["start"] : a["end"]] == a["text"] for a in answers)


def test_a_closed_standard_output_is_refused_in_one_line_before_any_work(tmp_path, tiny_bert):
    never_read = str(tmp_path / "never-read.txt")  # read first, it would be "no such file"
    closed = run("ask", never_read, "Where?", "--model", str(tiny_bert), preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2
    assert closed.stderr == b"reading-assistant: standard output is closed: there is nowhere to write the answers\n"
    both = run("ask", never_read, "Where?", preexec_fn=lambda: (os.close(1), os.close(2)))
    assert both.returncode == 2  # the same refusal, said nowhere: nothing failed while saying it
    for asked in (["--help"], ["--version"], ["ask", "--help"]):  # argparse says them on standard error then
        result = run(*asked, preexec_fn=lambda: os.close(1))
        assert result.returncode == 0 and result.stderr.startswith((b"usage: ", b"reading-assistant "))
        assert b"Traceback" not in result.stderr


def test_a_closed_standard_error_keeps_notes_off_standard_output(document, tiny_bert):
    question = "Где родилась Мария Кюри?"  # another language: a note goes to standard error
    noted = run("ask", str(document), question, "--json", "--model", str(tiny_bert))
    assert noted.returncode == 0 and noted.stderr.decode().startswith("note: ")
    closed = run("ask", str(document), question, "--json", "--model", str(tiny_bert), preexec_fn=lambda: os.close(2))
    assert closed.returncode == 0
    assert json.loads(closed.stdout) | {"seconds": 0} == json.loads(noted.stdout) | {"seconds": 0}


def closed_pipe() -> int:
    """A pipe's writing end whose reader is gone: every write fails, as after ``| head -c1``."""
    reader, writer = os.pipe()
    os.close(reader)
    return writer


@pytest.mark.parametrize(
    "arguments",
    [
        ["ask", "{document}", "Where was she born?", "--top-k", "100"],
        ["ask", "{document}", "Where was she born?", "--json"],
        ["--help"],
        ["ask", "--help"],
    ],
)
def test_a_pipe_closed_early_ends_quietly(document, tiny_bert, arguments):
    writer = closed_pipe()
    try:
        arguments = [a.format(document=document) for a in arguments]
        result = run(*arguments, "--model", str(tiny_bert), stdout=writer, stderr=subprocess.PIPE)
    finally:
        os.close(writer)
    # argparse drops its help when the write fails: --help ends with 0, as quietly.
    assert result.returncode == (0 if "--help" in arguments else 141) and result.stderr == b""


def test_a_pipe_closed_early_on_both_streams_ends_quietly(document, tiny_bert):
    writer = closed_pipe()
    try:  # the note fails on standard error first, then the answers on standard output
        result = run(
            "ask", str(document), "Где родилась Мария Кюри?", "--model", str(tiny_bert), stdout=writer, stderr=writer
        )
    finally:
        os.close(writer)
    assert result.returncode == 141


def test_head_reading_one_byte_leaves_no_message(document, tiny_bert):
    command = [sys.executable, "-m", "reading_assistant", "ask", str(document), "Where?", "--top-k", "100"]
    pipeline = f"set -o pipefail; {shlex.join([*command, '--model', str(tiny_bert)])} | head -c1"
    result = subprocess.run(["bash", "-c", pipeline], capture_output=True, timeout=120, check=False)
    assert result.returncode in (0, 141) and len(result.stdout) == 1  # 0: all written before head left
    assert result.stderr == b""


@pytest.mark.parametrize(
    ("raised", "shown", "logged"),
    [
        ("RuntimeError('bug 7f3a: a key was lost')", "RuntimeError: bug 7f3a: a key was lost", "bug 7f3a"),
        ("RuntimeError('bug 51c9 on\\nthree\\nlines')", "RuntimeError: bug 51c9 on three lines", "bug 51c9 on\nthree"),
        ("RuntimeError('x' * 1000)", "RuntimeError: " + "x" * 283 + "...", "x" * 1000),
        ("Bug8d2e()", "Bug8d2e", "Bug8d2e"),
    ],
)
def test_an_unexpected_error_is_one_line_naming_the_log_that_holds_its_traceback(raised, shown, logged):
    bug = (
        "import sys\n"
        "from reading_assistant import cli\n"
        "class Bug8d2e(Exception): pass\n"
        "def broken(arguments):\n"
        f"    raise {raised}\n"
        "cli.run_ask = broken\n"
        "sys.exit(cli.main(['ask', 'book.txt', 'Why?']))\n"
    )
    result = subprocess.run([sys.executable, "-c", bug], capture_output=True, timeout=120, check=False)
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode() == f"reading-assistant: unexpected error: {shown} (details in {log_path()})\n"
    last = log_path().read_text(encoding="utf-8").rsplit("ERROR reading_assistant: unexpected error\n", 1)[-1]
    assert last.startswith("Traceback (most recent call last):") and "in broken" in last and logged in last
