"""``reading-assistant library ...`` and ``ask --library``: the real command, models and SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reading_assistant.api import open_library

CURIE = (
    "Marie Curie was a physicist and chemist who conducted pioneering research on radioactivity.\n\n"
    "She was born in Warsaw in 1867 and moved to Paris in 1891, where she studied at the Sorbonne.\n"
)
RIVERS = "The Vistula is the longest river in Poland, flowing 1,047 kilometres to the Baltic Sea.\n"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reading_assistant", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def shelf(tmp_path) -> Path:
    root = tmp_path / "shelf"
    (root / "rivers").mkdir(parents=True)
    (root / "curie.txt").write_text(CURIE, encoding="utf-8")
    (root / "rivers" / "vistula.txt").write_text(RIVERS, encoding="utf-8")
    return root


def test_library_add_indexes_before_it_returns_and_ask_library_answers(tmp_path, shelf):
    index = tmp_path / "library.sqlite3"
    added = run("library", "add", str(shelf), "--library-file", str(index))
    assert added.returncode == 0, added.stderr
    assert "2 documents indexed" in added.stdout and "indexing" in added.stderr  # progress on standard error
    listed = run("library", "list", "--json", "--library-file", str(index))
    states = {Path(d["path"]).name: d["state"] for d in json.loads(listed.stdout)}
    assert states == {"curie.txt": "indexed", "vistula.txt": "indexed"}

    asked = run("ask", "--library", "Where was Marie Curie born?", "--json", "--library-file", str(index))
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["answers"][0]["text"] == "Warsaw" and result["answers"][0]["document"] == "curie.txt"
    readable = run("ask", "--library", "How long is the Vistula?", "--library-file", str(index))
    assert "vistula.txt" in readable.stdout and "1,047 kilometres" in readable.stdout
    one_folder = run(
        "ask",
        "--library",
        "Where was Marie Curie born?",
        "--folder",
        str(shelf / "rivers"),
        "--json",
        "--library-file",
        str(index),
    )
    assert all(a["document"] == "vistula.txt" for a in json.loads(one_folder.stdout)["answers"])


def test_library_commands_refuse_bad_input_with_one_line(tmp_path, shelf):
    index = str(tmp_path / "library.sqlite3")
    missing = run("library", "add", str(tmp_path / "nowhere"), "--library-file", index)
    assert missing.returncode == 2 and missing.stderr.strip().endswith("does not exist")
    assert "Traceback" not in missing.stderr
    no_question = run("ask", "--library", "--library-file", index)
    assert no_question.returncode == 2 and "QUESTION" in no_question.stderr
    stray = run("ask", "file.txt", "Why?", "--folder", str(shelf))
    assert stray.returncode == 2 and "--library" in stray.stderr
    empty = run("ask", "--library", "Where was she born?", "--library-file", index)
    assert empty.returncode == 0 and "no documents yet" in empty.stdout


def test_the_python_api_adds_asks_and_embeds(tmp_path, shelf):
    library = open_library(tmp_path / "library.sqlite3")
    seen = []
    summary = library.add(shelf, on_progress=seen.append)
    assert summary["documents"] == 2 and summary["failed"] == 0 and seen
    assert library.ask("Where was Marie Curie born?")["answers"][0]["text"] == "Warsaw"
    vectors = library.get_embedding(["Marie Curie", "a river in Poland"])
    assert len(vectors) == 2 and len(vectors[0]) == 384
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-3
    assert library.remove(shelf / "rivers")["removed"] == 1
    assert [d["name"] for d in library.documents()] == ["curie.txt"]
    library.close()
