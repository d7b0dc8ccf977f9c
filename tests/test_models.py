"""``reading-assistant models``: tiny BERT, DistilBERT and RoBERTa checkpoints exported, quantized, added and asked.

The commands run as real processes; the model hub is the one thing faked: a local HTTP server
speaking its protocol to ``huggingface_hub`` through ``HF_ENDPOINT``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from reading_assistant.core import model_store
from reading_assistant.core.errors import InputError, ModelError
from reading_assistant.core.paths import BUNDLED_MODEL_NAME
from tests.tiny_models import save_checkpoint

TEXT = "Marie Curie was born in Warsaw, Poland. She won the Nobel Prize in 1903 and moved to Paris.\n" * 3


def run(*args: str, env: dict | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "reading_assistant", *args]
    return subprocess.run(
        command, capture_output=True, text=True, encoding="utf-8", timeout=300, env={**os.environ, **(env or {})}
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture()
def store(tmp_path, monkeypatch) -> Path:
    """A fresh user data folder (so a fresh model store) for this test and the processes it starts."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return model_store.store_dir()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("checkpoints")
    return {name: save_checkpoint(root / name, name) for name in ("bert", "distilbert", "roberta")}


@pytest.fixture()
def document(tmp_path) -> Path:
    path = tmp_path / "curie.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.mark.parametrize("architecture", ["bert", "distilbert", "roberta"])
def test_a_checkpoint_is_exported_quantized_added_and_asked(architecture, checkpoints, store, document, capsys):
    name = f"tiny-{architecture}"
    added = run("models", "add", str(checkpoints[architecture]), "--name", name, "--device", "cpu")
    assert added.returncode == 0, added.stderr
    with capsys.disabled():
        print(f"\n$ reading-assistant models add {architecture}-checkpoint --name {name}\n{added.stdout}")
    assert f"added {name}" in added.stdout and "exported with optimum and quantized to int8" in added.stdout
    assert "ms per window on CPU" in added.stdout and "int8 vs fp32: " in added.stdout
    assert "top answers agree" in added.stdout  # the fp32 export was there to compare with
    folder = store / name
    settings = json.loads((folder / "reading_assistant.json").read_text())
    assert settings["batch_size"] == 1 and settings["seq_len"] == 384 and settings["name"] == name
    assert model_store.is_quantized(folder / settings["onnx_file"])

    asked = run("ask", str(document), "Where was she born?", "--json", "--model", name)
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert payload["model"] == name and payload["answers"]
    for answer in payload["answers"]:
        assert TEXT[answer["start"] : answer["end"]] == answer["text"]

    listed = {m["name"]: m for m in json.loads(run("models", "list", "--json").stdout)}
    assert listed[BUNDLED_MODEL_NAME]["bundled"] is True
    assert listed[name]["bundled"] is False and listed[name]["ms_per_window"] > 0
    assert listed[name]["size_bytes"] == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    checked = run("models", "check", name, "--device", "cpu")
    assert checked.returncode == 0 and f"{name} works" in checked.stdout, checked.stderr
    assert "top answers agree" in checked.stdout  # as measured when it was added

    removed = run("models", "remove", name)
    assert removed.returncode == 0 and not folder.exists()
    assert "no model named" in one_line_error(run("ask", str(document), "Where?", "--model", name))


def test_window_settings_follow_the_positions_the_model_has():
    small = model_store.model_settings({"max_position_embeddings": 128}, int8=True, name="m", onnx_file="model.onnx")
    assert (small.seq_len, small.query_len, small.doc_stride, small.batch_size) == (128, 32, 42, 1)
    roberta = model_store.model_settings(
        {"model_type": "roberta", "max_position_embeddings": 130, "pad_token_id": 1}, int8=False, name="m", onnx_file=""
    )
    assert (roberta.seq_len, roberta.batch_size) == (128, 8)
    assert model_store.model_settings({}, int8=True, name="m", onnx_file="").seq_len == 384


def test_an_onnx_folder_is_copied_with_settings_of_its_own(tiny_bert, tiny_bert_fixed, store, document):
    assert not (tiny_bert / "reading_assistant.json").exists()
    for source, name in ((tiny_bert, "plain"), (tiny_bert_fixed, "openvino")):
        added = run("models", "add", str(source), "--name", name, "--device", "cpu")
        assert added.returncode == 0, added.stderr
        assert "ONNX folder copied" in added.stdout and "not needed (an fp32 model)" in added.stdout
        settings = json.loads((store / name / "reading_assistant.json").read_text())
        assert settings["batch_size"] == 8 and settings["name"] == name  # fp32: batches are exact
        asked = run("ask", str(document), "Where was she born?", "--json", "--model", name)
        assert asked.returncode == 0 and json.loads(asked.stdout)["answers"], asked.stderr
    # The same weights read the same way give the same answers, whatever the export's layout.
    answers = [
        json.loads(run("ask", str(document), "Where?", "--json", "--model", name, "--max-windows", "0").stdout)
        for name in ("plain", "openvino")
    ]
    assert [a["text"] for a in answers[0]["answers"]] == [a["text"] for a in answers[1]["answers"]]


def test_optimums_quantized_layout_is_compared_with_the_fp32_model_beside_it(checkpoints, store, tmp_path):
    from reading_assistant.training import convert

    export = tmp_path / "optimum"
    convert.export_checkpoint(checkpoints["bert"], export)
    convert.quantize_folder(export, tmp_path / "int8")
    shutil.copy(tmp_path / "int8" / "model.onnx", export / "model_quantized.onnx")
    model, report = model_store.add_model(str(export), name="optimum-layout", device="cpu")
    assert model.folder == store / "optimum-layout"
    assert report.int8 and report.agreement is not None and report.agreement[1] == 4
    settings = json.loads((model.folder / "reading_assistant.json").read_text())
    assert settings["onnx_file"] == "model_quantized.onnx" and settings["batch_size"] == 1


def test_folders_that_cannot_work_are_refused_in_one_line(tmp_path, tiny_bert, store, checkpoints):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no model" in one_line_error(run("models", "add", str(empty)))
    no_tokenizer = tmp_path / "no-tokenizer"
    no_tokenizer.mkdir()
    shutil.copy(tiny_bert / "model.onnx", no_tokenizer / "model.onnx")
    assert "tokenizer.json" in one_line_error(run("models", "add", str(no_tokenizer)))
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "model.onnx").write_bytes(b"not a model")
    shutil.copy(tiny_bert / "tokenizer.json", corrupt / "tokenizer.json")
    assert "cannot load the model" in one_line_error(run("models", "add", str(corrupt)))
    broken_checkpoint = tmp_path / "broken-checkpoint"
    shutil.copytree(checkpoints["bert"], broken_checkpoint)
    (broken_checkpoint / "model.safetensors").write_bytes(b"junk")
    assert "cannot export" in one_line_error(run("models", "add", str(broken_checkpoint)))
    assert "bundled model" in one_line_error(run("models", "remove", BUNDLED_MODEL_NAME))
    assert "no model named" in one_line_error(run("models", "remove", "nothing-here"))
    assert "no model named" in one_line_error(run("models", "check", "nothing-here"))
    assert "model name" in one_line_error(run("models", "add", str(tiny_bert), "--name", "../escape"))
    assert "already exists" in one_line_error(run("models", "add", str(tiny_bert), "--name", BUNDLED_MODEL_NAME))
    # Nothing half-made is left in the store (beside its records and its lock files).
    assert not store.exists() or [p.name for p in store.iterdir() if p.name not in (".checks", ".locks")] == []


def test_without_the_models_extra_a_checkpoint_names_the_extra_and_onnx_folders_still_work(
    checkpoints, tiny_bert, store
):
    blocked = (
        "import sys\n"
        "for name in ('torch', 'optimum', 'transformers'):\n"
        "    sys.modules[name] = None  # as if not installed\n"
        "from reading_assistant.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    line = one_line_error(run("models", "add", str(checkpoints["bert"]), code=blocked))
    assert "pip install 'reading-assistant[models]'" in line
    result = run("models", "add", str(tiny_bert), "--name", "onnx-only", "--device", "cpu", code=blocked)
    assert result.returncode == 0 and "added onnx-only" in result.stdout, result.stderr


class FakeHub(BaseHTTPRequestHandler):
    """The two things ``snapshot_download`` asks the hub: a repository's file list, and each file."""

    repos: ClassVar[dict[str, Path]] = {}
    requests: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.answer(body=True)

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def answer(self, body: bool) -> None:
        self.requests.append(f"{self.command} {self.path}")
        path = self.path.split("?")[0]
        for repo, folder in self.repos.items():
            files = sorted(p.name for p in folder.iterdir() if p.is_file())
            sha = hashlib.sha1(repo.encode()).hexdigest()
            if path in (f"/api/models/{repo}", f"/api/models/{repo}/revision/main"):
                info = {"id": repo, "modelId": repo, "sha": sha, "siblings": [{"rfilename": f} for f in files]}
                return self.send(json.dumps(info).encode(), "application/json", sha, body)
            prefix = f"/{repo}/resolve/"
            name = path[len(prefix) :].partition("/")[2]  # after the revision
            if path.startswith(prefix) and name in files:
                data = (folder / name).read_bytes()
                return self.send(data, "application/octet-stream", sha, body, etag=hashlib.sha256(data).hexdigest())
        self.send_response(404)
        self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send(self, data: bytes, kind: str, sha: str, body: bool, etag: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Repo-Commit", sha)
        self.send_header("ETag", f'"{etag or sha}"')
        self.end_headers()
        if body:
            self.wfile.write(data)


@pytest.fixture()
def hub(tiny_distilbert):
    FakeHub.repos = {"tester/tiny-qa": tiny_distilbert}
    FakeHub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_model_id_is_downloaded_from_the_hub_when_asked(hub, store, document, tmp_path):
    env = {"HF_ENDPOINT": hub, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1"}
    added = run("models", "add", "tester/tiny-qa", "--device", "cpu", env=env)
    assert added.returncode == 0, added.stderr
    assert "added tiny-qa: tester/tiny-qa (downloaded)" in added.stdout
    assert any(r.startswith("GET /tester/tiny-qa/resolve/") for r in FakeHub.requests)
    asked = run("ask", str(document), "Where?", "--json", "--model", "tiny-qa")
    assert asked.returncode == 0 and json.loads(asked.stdout)["model"] == "tiny-qa"
    # A repository the hub does not have, and a hub that cannot be reached: one line each.
    assert "cannot download tester/missing" in one_line_error(run("models", "add", "tester/missing", env=env))
    unreachable = {**env, "HF_ENDPOINT": "http://127.0.0.1:9"}
    assert "cannot download tester/tiny-qa" in one_line_error(
        run("models", "add", "tester/tiny-qa", "--name", "again", env=unreachable)
    )


def test_names_resolve_through_the_store_and_folders_still_work(tiny_bert, store):
    assert model_store.resolve_model(None).name == BUNDLED_MODEL_NAME
    assert model_store.resolve_model(BUNDLED_MODEL_NAME) == model_store.resolve_model(None)
    assert model_store.resolve_model(str(tiny_bert)) == tiny_bert
    with pytest.raises(ModelError, match="no model named 'nothing'"):
        model_store.resolve_model("nothing")
    with pytest.raises(ModelError, match="model folder not found"):
        model_store.resolve_model(str(tiny_bert / "missing"))
    with pytest.raises(InputError, match="no such folder"):
        model_store.add_model("/no/such/folder/anywhere")
