"""The server's library routes: real servers as processes on free loopback ports, a real HTTP client,
real models (the bundled reader and embedder) and a library file of the test's own."""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_server import assert_one_message, free_port

# The server of the tests: the bundled reader on the CPU, its library in a file the test names (argv 1).
SERVE = """
import sys
from reading_assistant import server
from reading_assistant.api import open_library, open_reader
library = lambda: open_library(sys.argv[1], device="cpu")
sys.exit(server.serve(open_reader(device="cpu"), port=int(sys.argv[2]), timeout=30, library=library))
"""
PAPERS = {
    "curie.txt": "Marie Curie was born in Warsaw, Poland, in 1867. She moved to Paris to study physics.\n\n"
    "She won the Nobel Prize in Physics in 1903 and the Nobel Prize in Chemistry in 1911.\n",
    "rivers/nile.txt": "The Nile flows north through eleven countries and empties into the Mediterranean Sea.\n",
    "rivers/amazon.txt": "The Amazon carries more water than any other river and crosses Brazil to the Atlantic.\n",
}


@contextlib.contextmanager
def running(command: list[str], tmp: Path, env: dict[str, str] | None = None):
    """A server process started with ``command`` (its port last) and a client with its token."""
    config = tmp / "config"
    port = free_port()
    env = {**os.environ, "READING_ASSISTANT_CONFIG_DIR": str(config), **(env or {})}
    log = tmp / "server.log"  # a file, not a pipe: a server that says much never blocks on it
    with log.open("w") as stderr:
        process = subprocess.Popen([*command, str(port)], env=env, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server ended: {log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail("the server did not start in 60 s")
            token_file = config / "server-token"
            with contextlib.suppress(httpx.TransportError, OSError):
                token = token_file.read_text().strip()
                if httpx.get(f"{base}/health", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                    break
            time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            yield process, client
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def serving(library_file: Path) -> list[str]:
    return [sys.executable, "-c", SERVE, str(library_file)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("library-server")
    with running(serving(tmp / "library.sqlite3"), tmp) as (process, client):
        yield {"client": client, "library": tmp / "library.sqlite3", "process": process}


@pytest.fixture()
def client(server) -> httpx.Client:
    return server["client"]


def write_files(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def indexed(client: httpx.Client, seconds: float = 30) -> dict:
    """The library once indexing has ended and nothing waits (reading and embedding)."""
    deadline = time.monotonic() + seconds
    while True:
        status = client.get("/library")
        assert status.status_code == 200, status.text
        library = status.json()
        counts = library["counts"]
        if not library["indexing"]["running"] and not counts["waiting"] and counts["embedded"] == counts["passages"]:
            return library
        assert time.monotonic() < deadline, f"not indexed in {seconds} s: {library}"
        time.sleep(0.1)


def test_a_folder_added_is_indexed_in_the_background_and_answers(client, tmp_path):
    papers = write_files(tmp_path / "papers", PAPERS)
    added = client.post("/library/add", json={"path": str(papers)})
    assert added.status_code == 202, added.text
    assert added.json()["folder"] == str(papers.resolve()) and "running" in added.json()["indexing"]
    library = indexed(client)
    assert str(papers.resolve()) in library["folders"]
    mine = {Path(d["path"]).name: d for d in library["documents"] if d["folder"] == str(papers.resolve())}
    assert set(mine) == {"curie.txt", "nile.txt", "amazon.txt"}
    assert all(d["state"] == "indexed" and d["error"] is None and d["passages"] >= 1 for d in mine.values())
    progress = library["indexing"]["progress"]
    assert progress["stage"] == "embedding" and progress["done"] == progress["total"]
    assert library["indexing"]["error"] is None

    asked = client.post("/library/ask", json={"question": "Where was Marie Curie born?"})
    assert asked.status_code == 200, asked.text
    best = asked.json()["answers"][0]
    assert "Warsaw" in best["text"] and best["document"] == "curie.txt"
    assert best["path"] == str(papers.resolve() / "curie.txt")
    assert set(asked.json()) >= {"question", "no_answer_score", "has_answer", "passages", "documents", "seconds"}
    rivers = client.post(
        "/library/ask", json={"question": "Where was Marie Curie born?", "folder": str(papers / "rivers"), "top_k": 1}
    )
    assert rivers.status_code == 200, rivers.text
    assert len(rivers.json()["answers"]) <= 1
    assert all("/rivers/" in answer["path"] for answer in rivers.json()["answers"])


def test_update_notices_changes_and_remove_takes_out(client, tmp_path):
    notes = write_files(tmp_path / "notes", {"a.txt": "Alpha is the first letter.\n", "b.txt": "Beta comes next.\n"})
    assert client.post("/library/add", json={"path": str(notes)}).status_code == 202
    indexed(client)
    (notes / "b.txt").unlink()
    write_files(notes, {"c.txt": "Gamma is the third letter of the Greek alphabet.\n"})
    updated = client.post("/library/update")
    assert updated.status_code == 202, updated.text
    mine = sorted(Path(d["path"]).name for d in indexed(client)["documents"] if d["folder"] == str(notes.resolve()))
    assert mine == ["a.txt", "c.txt"]
    removed = client.post("/library/remove", json={"path": str(notes)})
    assert removed.status_code == 200 and removed.json() == {"removed": 2}, removed.text
    library = client.get("/library").json()
    assert str(notes.resolve()) not in library["folders"]
    assert not [d for d in library["documents"] if d["folder"] == str(notes.resolve())]


def test_embeddings_are_unit_vectors_of_384(client):
    texts = ["Marie Curie was born in Warsaw.", "Curie's birthplace is the Polish capital.", "Rivers flow to the sea."]
    response = client.post("/embedding", json={"texts": texts})
    assert response.status_code == 200, response.text
    vectors = response.json()["embeddings"]
    assert len(vectors) == 3 and all(len(v) == 384 for v in vectors)
    assert all(abs(math.hypot(*v) - 1) < 1e-3 for v in vectors)
    alike = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
    unlike = sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True))
    assert alike > unlike
    one = client.post("/embedding", json={"texts": texts[0]}).json()["embeddings"]
    assert len(one) == 1 and max(abs(a - b) for a, b in zip(one[0], vectors[0], strict=True)) < 1e-4


def test_bad_input_is_refused_with_one_sentence(client, tmp_path):
    write_files(tmp_path, {"tool.exe": "MZ"})
    cases = [
        ("/library/add", {}, 400, "give 'path'"),
        ("/library/add", {"path": 3}, 400, "give 'path'"),
        ("/library/add", {"path": str(tmp_path / "nowhere")}, 400, "does not exist"),
        ("/library/add", {"path": "relative/folder"}, 400, "full path"),
        ("/library/add", {"path": str(tmp_path / "tool.exe")}, 400, "unsupported"),
        ("/library/add", {"path": "/" + "x" * 300}, 400, "path"),
        ("/library/remove", {"path": str(tmp_path / "elsewhere")}, 400, "not in the library"),
        ("/library/ask", {"question": "  "}, 400, "the question is empty"),
        ("/library/ask", {}, 400, "the question is empty"),
        ("/library/ask", {"question": "Who?", "top_k": 0}, 400, "top_k"),
        ("/library/ask", {"question": "Who?", "folder": 7}, 400, "folder"),
        ("/embedding", {"texts": []}, 400, "'texts'"),
        ("/embedding", {"texts": ["a", 2]}, 400, "'texts'"),
        ("/embedding", {"texts": ["word"] * 257}, 413, "at most 256 texts"),
        ("/embedding", {"texts": ["word " * 220_000]}, 413, "characters"),
    ]
    for path, body, status, said in cases:
        assert said in assert_one_message(client.post(path, json=body), status), (path, body)
    assert_one_message(client.post("/library/add", content=b"{not json"), 400)
    assert_one_message(client.get("/library/add"), 405)
    assert_one_message(client.post("/library"), 405)


def test_the_token_is_needed_and_the_routes_are_described(server, client):
    base = str(client.base_url)
    for method, path in (
        ("GET", "/library"),
        ("POST", "/library/add"),
        ("POST", "/library/ask"),
        ("POST", "/embedding"),
    ):
        assert_one_message(httpx.request(method, base + path, json={"path": "/tmp"}), 401)
    assert_one_message(client.get("/library", headers={"Origin": "https://evil.example"}), 403)
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/library", "/library/add", "/library/remove", "/library/update", "/library/ask", "/embedding"):
        assert route in paths and "responses" in next(iter(paths[route].values()))


def test_a_library_that_cannot_be_opened_is_503_and_the_rest_answers(tmp_path):
    # The reader's own library (the default opener), made by a newer version of the app.
    data = tmp_path / "data"
    (data / "reading-assistant").mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(data / "reading-assistant" / "library.sqlite3")) as newer:
        newer.execute("PRAGMA user_version = 99")
    command = [sys.executable, "-m", "reading_assistant", "serve", "--device", "cpu", "--port"]
    with running(command, tmp_path, {"XDG_DATA_HOME": str(data)}) as (_, client):
        for method, path in (("GET", "/library"), ("POST", "/library/ask"), ("POST", "/embedding")):
            body = {"question": "Who?", "texts": ["a"]}
            said = assert_one_message(client.request(method, path, json=body), 503)
            assert "newer version" in said
        assert client.get("/health").status_code == 200
        asked = client.post("/v1/ask", json={"text": PAPERS["curie.txt"], "question": "Where was Marie Curie born?"})
        assert asked.status_code == 200 and "Warsaw" in asked.json()["answers"][0]["text"]


def test_stopping_the_server_stops_indexing(tmp_path):
    library_file = tmp_path / "library.sqlite3"
    paragraph = "The committee met again in the spring to discuss the harbour, the bridges and the old mill. " * 9
    books = write_files(
        tmp_path / "books", {f"book{i:03}.txt": f"Book {i}.\n\n{paragraph}\n\n{paragraph}" for i in range(300)}
    )
    with running(serving(library_file), tmp_path) as (process, client):
        assert client.post("/library/add", json={"path": str(books)}).status_code == 202
        deadline = time.monotonic() + 30
        while not (client.get("/library").json()["indexing"]["progress"] or {}).get("done"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        started = time.monotonic()
        process.terminate()
        process.wait(timeout=30)
        assert time.monotonic() - started < 10
    with contextlib.closing(sqlite3.connect(library_file)) as db:
        assert db.execute("SELECT count(*) FROM indexer").fetchone()[0] == 0  # the lease given back: a clean stop
        waiting = db.execute("SELECT count(*) FROM passages WHERE embedding IS NULL").fetchone()[0]
        waiting += db.execute("SELECT count(*) FROM documents WHERE state = 'waiting'").fetchone()[0]
    assert waiting > 0  # stopped part way, not finished
