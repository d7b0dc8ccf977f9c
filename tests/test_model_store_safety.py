"""The model store cannot be turned against its owner, and no model folder's settings can exhaust
the machine (issue 33): each case on real folders, real processes, real loopback sockets, the
tiny test models and the real bundled model."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reading_assistant.core import model_store
from reading_assistant.core.engine import open_engine
from reading_assistant.core.errors import InputError, ModelError
from reading_assistant.core.memory import CALL_SHARE, MAX_BATCH_BYTES, available_memory, windows_that_fit
from reading_assistant.core.model_folder import CONFIG_NAME, ModelFolder, fit_to_model
from reading_assistant.core.model_shape import ModelShape, read_shape
from reading_assistant.core.options import ModelConfig
from reading_assistant.core.paths import bundled_model_dir
from reading_assistant.core.store_lock import name_lock
from tests.test_models import one_line_error, run, store  # noqa: F401 (store: the fresh-store fixture)

# Words enough for a few hundred windows of the bundled model.
LONG_TEXT = " ".join(
    f"Paragraph {n}: Marie Curie worked in Paris on radioactivity and won the Nobel Prize in 1903." for n in range(900)
)


def clean_line(result) -> str:
    """One line, and nothing of onnxruntime's own log (ANSI colours, C++ source files) around it."""
    line = one_line_error(result)
    assert "\x1b[" not in result.stderr and ".cc:" not in result.stderr and "onnxruntime" not in result.stderr
    return line


def model_copy(source: Path, folder: Path, **settings) -> Path:
    """A copy of a model folder, its reading_assistant.json (if any) updated with ``settings``."""
    shutil.copytree(source, folder)
    path = folder / CONFIG_NAME
    kept = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    path.write_text(json.dumps({**kept, **settings}), encoding="utf-8")
    return folder


@pytest.fixture()
def long_document(tmp_path) -> Path:
    path = tmp_path / "long.txt"
    path.write_text(LONG_TEXT, encoding="utf-8")
    return path


@pytest.fixture()
def stored(tiny_bert, store) -> Path:  # noqa: F811 (the fixture imported above)
    model, _ = model_store.add_model(str(tiny_bert), name="real", device="cpu")
    return model.folder


# -- links, names and paths ----------------------------------------------------------------


def test_removing_a_link_removes_the_link_never_what_it_points_to(stored, store, tmp_path):  # noqa: F811
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine", encoding="utf-8")
    (store / "alias").symlink_to(stored, target_is_directory=True)
    (store / "elsewhere").symlink_to(outside, target_is_directory=True)
    # A link is not a stored model: not listed, not opened by name.
    assert [m.name for m in model_store.list_models() if not m.bundled] == ["real"]
    with pytest.raises(ModelError, match="no model named 'alias'"):
        model_store.resolve_model("alias")

    removed = run("models", "remove", "alias")
    assert removed.returncode == 0 and removed.stderr == "", removed.stderr
    assert not (store / "alias").is_symlink() and (stored / "model.onnx").is_file()
    assert model_store.resolve_model("real") == stored
    model_store.remove_model("elsewhere")
    assert not (store / "elsewhere").is_symlink() and (outside / "keep.txt").read_text(encoding="utf-8") == "mine"

    # A link inside a stored model is refused on use, and removing the model removes only the link.
    (stored / "notes").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ModelError, match="holds a link"):
        model_store.resolve_model("real")
    model_store.remove_model("real")
    assert not stored.exists() and (outside / "keep.txt").is_file()


def test_names_and_model_ids_are_checked_as_whole_strings(stored, tiny_bert):
    for name in ("fresh\n", "real\n", "fresh\r\n", "a/../b", "x" * 65):
        with pytest.raises(InputError, match="model name"):
            model_store.add_model(str(tiny_bert), name=name, device="cpu")
    with pytest.raises(ModelError, match="model folder not found"):
        model_store.resolve_model("real\n")
    with pytest.raises(ModelError, match="no model named"):
        model_store.remove_model("real\n")
    with pytest.raises(InputError, match="no such folder"):
        model_store.add_model("tester/tiny-qa\n")
    assert "model name" in clean_line(run("models", "add", str(tiny_bert), "--name", "fresh\n"))
    assert stored.is_dir() and [m.name for m in model_store.list_models() if not m.bundled] == ["real"]


@pytest.mark.parametrize(
    "onnx_file", ["{absolute}", "../tiny/model.onnx", "C:\\models\\model.onnx", "..\\model.onnx", "/model.onnx"]
)
def test_a_model_folder_names_only_files_inside_it(onnx_file, tiny_bert, store, tmp_path):  # noqa: F811
    absolute = str((tiny_bert / "model.onnx").resolve())
    folder = model_copy(tiny_bert, tmp_path / "tiny", onnx_file=onnx_file.format(absolute=absolute))
    line = clean_line(run("models", "add", str(folder), "--name", "escape", "--device", "cpu"))
    assert "onnx_file" in line and "inside the model folder" in line and str(folder) in line
    assert ".adding-" not in line  # named as the user's folder, not the store's scratch copy
    with pytest.raises(ModelError, match="inside the model folder"):
        ModelFolder.open(folder)
    assert not (store / "escape").exists()


def test_a_stored_model_is_refused_once_its_settings_point_outside(stored, tiny_bert, long_document):
    settings = json.loads((stored / CONFIG_NAME).read_text(encoding="utf-8"))
    settings["onnx_file"] = str((tiny_bert / "model.onnx").resolve())
    (stored / CONFIG_NAME).write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(ModelError, match=r"onnx_file .* inside the model folder"):
        open_engine(model_store.resolve_model("real"), "cpu")
    assert "inside the model folder" in clean_line(run("ask", str(long_document), "Where?", "--model", "real"))


def test_files_in_an_onnx_subfolder_and_external_weights_are_copied_in(tiny_bert, store, tmp_path):  # noqa: F811
    import onnx

    folder = tmp_path / "hub-layout"
    (folder / "onnx").mkdir(parents=True)
    shutil.copy(tiny_bert / "tokenizer.json", folder / "tokenizer.json")
    graph = onnx.load(str(tiny_bert / "model.onnx"))
    onnx.save_model(
        graph, str(folder / "onnx" / "model.onnx"), save_as_external_data=True, location="weights.bin", size_threshold=0
    )
    (folder / CONFIG_NAME).write_text(json.dumps({"onnx_file": "onnx/model.onnx"}), encoding="utf-8")
    assert read_shape(folder / "onnx" / "model.onnx").external_files == ("weights.bin",)

    model, report = model_store.add_model(str(folder), name="external", device="cpu")
    assert json.loads((model.folder / CONFIG_NAME).read_text(encoding="utf-8"))["onnx_file"] == "model.onnx"
    assert (model.folder / "weights.bin").is_file() and report.answer is not None
    assert not any(p.is_symlink() for p in model.folder.rglob("*"))

    # A graph whose weights lie outside its folder is refused, on add and on load.
    for tensor in graph.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../weights.bin"
    escaping = tmp_path / "escaping"
    shutil.copytree(folder, escaping)
    onnx.save_model(graph, str(escaping / "onnx" / "model.onnx"))
    with pytest.raises(ModelError, match=r"external data .* inside the model folder"):
        model_store.add_model(str(escaping), name="escaping", device="cpu")
    with pytest.raises(ModelError, match="external data"):
        ModelFolder.open(escaping)


# -- one add or remove of a name at a time ---------------------------------------------------------


def test_concurrent_adds_of_one_name_are_serialised(tiny_bert, store):  # noqa: F811
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def add() -> None:
        start.wait()
        try:
            model_store.add_model(str(tiny_bert), name="same", device="cpu")
        except InputError as error:
            outcomes.append(str(error))
        else:
            outcomes.append("added")

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(outcomes)[0] == "added" and len(outcomes) == 2, outcomes
    loser = sorted(outcomes)[1]
    assert "another 'models add' of same is under way" in loser or "already exists" in loser
    assert [p.name for p in store.iterdir() if not p.name.startswith(".")] == ["same"]
    assert not list(store.glob(".adding-*"))


def test_a_held_lock_turns_other_adds_and_removes_away_in_one_line(tiny_bert, stored, store):  # noqa: F811
    with name_lock(store, "other", "add"):
        line = clean_line(run("models", "add", str(tiny_bert), "--name", "other", "--device", "cpu"))
        assert line == "reading-assistant: another 'models add' of other is under way: try again when it is done"
    with name_lock(store, "real", "remove"):
        assert "another 'models remove' of real is under way" in clean_line(run("models", "remove", "real"))
        with pytest.raises(InputError, match="under way"):
            model_store.add_model(str(tiny_bert), name="real", device="cpu")
    assert stored.is_dir()
    # Released, whatever happened inside: the next add of the name goes ahead.
    added = run("models", "add", str(tiny_bert), "--name", "other", "--device", "cpu")
    assert added.returncode == 0, added.stderr


# -- the hub ---------------------------------------------------------------------------------------


class SilentSockets:
    """A server on loopback that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()
        self.thread.join(timeout=10)


class InfoThenSilence(BaseHTTPRequestHandler):
    """A hub that lists a repository's files, then never answers a request for one of them."""

    released = threading.Event()

    def log_message(self, *args) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.path.split("?")[0].startswith("/api/models/tester/tiny-qa"):
            body = json.dumps(
                {"id": "tester/tiny-qa", "sha": "0" * 40, "siblings": [{"rfilename": "model.onnx"}]}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.released.wait(120)


def test_a_hub_that_never_answers_is_given_up_in_one_line(store, tmp_path, capsys):  # noqa: F811
    silent = SilentSockets()
    InfoThenSilence.released.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), InfoThenSilence)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # A shortened timeout (the default is 10 s a request, given up after 30 s without an answer).
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1", "HF_HUB_DOWNLOAD_TIMEOUT": "2"}
    try:
        timings = {}
        for label, endpoint in (("accepts, never answers", silent.url), ("lists files, never sends them", None)):
            endpoint = endpoint or f"http://127.0.0.1:{server.server_address[1]}"
            started = time.monotonic()
            line = clean_line(run("models", "add", "tester/tiny-qa", env={**env, "HF_ENDPOINT": endpoint}))
            timings[label] = time.monotonic() - started
            assert line.startswith("reading-assistant: cannot download tester/tiny-qa: "), line
            assert timings[label] < 60
        assert "does not answer" in line
    finally:
        InfoThenSilence.released.set()
        server.shutdown()
        server.server_close()
        silent.close()
    with capsys.disabled():
        print("\nhub given up after (2 s timeouts): " + ", ".join(f"{k}: {v:.1f} s" for k, v in timings.items()))
    assert not store.exists() or not [p for p in store.iterdir() if not p.name.startswith(".")]


# -- memory and positions --------------------------------------------------------------------------


def test_a_stride_of_one_token_is_refused_in_one_line(store, tmp_path, long_document):  # noqa: F811
    folder = model_copy(bundled_model_dir(), tmp_path / "greedy", batch_size=1024, seq_len=512, doc_stride=1)
    line = clean_line(run("models", "add", str(folder), "--name", "greedy"))
    assert "doc_stride" in line and "at least 16 for windows of 512 tokens" in line
    assert "doc_stride" in clean_line(run("ask", str(long_document), "Where?", "--doc-stride", "1"))


def test_a_batch_too_big_for_the_memory_free_is_lowered_when_added(store, tmp_path, capsys):  # noqa: F811
    folder = model_copy(bundled_model_dir(), tmp_path / "greedy", batch_size=1024, seq_len=512, doc_stride=128)
    added = run("models", "add", str(folder), "--name", "greedy", "--device", "cpu")
    assert added.returncode == 0, added.stderr
    warnings = added.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: batch_size 1024 from "), added.stderr
    assert str(folder) in warnings[0] and "asks too much memory" in warnings[0]
    kept = json.loads((store / "greedy" / CONFIG_NAME).read_text(encoding="utf-8"))
    shape = read_shape(store / "greedy" / "model.onnx")
    assert 1 <= kept["batch_size"] < 1024
    assert shape.call_bytes(kept["batch_size"], 512) <= MAX_BATCH_BYTES
    with capsys.disabled():
        need = shape.call_bytes(1024, 512) / 2**30
        print(f"\nbatch 1024 x 512 tokens would need {need:.1f} GB; the stored model reads {kept['batch_size']} a call")


def test_a_model_that_cannot_run_in_the_memory_free_is_refused():
    free = available_memory()
    assert free is not None and free > 0  # Linux says, through /proc/meminfo
    wide = ModelShape(positions=4096, hidden=8192, heads=4096, intermediate=32768)
    assert wide.call_bytes(1, 4096) > free * CALL_SHARE
    assert windows_that_fit(wide, 4096, 1) == 0
    with pytest.raises(ModelError, match=r"cannot run here: 1 window of 4,096 tokens needs about .* GB"):
        fit_to_model(ModelConfig(seq_len=4096, batch_size=1), wide, "the test")
    narrow = read_shape(bundled_model_dir() / "model.onnx")
    assert windows_that_fit(narrow, 384, 1) == 1  # the bundled model's own settings always fit


# Prints how much a process's memory grows (its peak, reset first, over what it held before) while
# the bundled model reads, in one model call (argv: batch, tokens) or in a whole read of standard
# input asking for batches of 1024 windows (argv: "read").
MEASURE_GROWTH = """
import json, sys
import numpy as np
from reading_assistant.core.engine import open_engine
from reading_assistant.core.options import Choices

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field + ":"))

engine = open_engine(None, "cpu")
engine.ask("Marie Curie was born in Warsaw.", "Where was she born?")
text = sys.stdin.read()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from what is held now
before = status("VmRSS")
if sys.argv[1] == "read":
    windows = engine.ask(text, "Where did Marie Curie work?", Choices(batch_size=1024, seq_len=512)).windows
else:
    windows, tokens = int(sys.argv[1]), int(sys.argv[2])
    ids = np.full((windows, tokens), 1000, dtype=np.int64)
    engine.model.run({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})
print(json.dumps({"windows": windows, "growth": status("VmHWM") - before}))
"""


def measured_growth(*args: str, text: str = "") -> dict:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", MEASURE_GROWTH, *args], input=text, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory held is read from /proc")
def test_the_memory_estimate_covers_what_a_model_call_takes(capsys):
    shape = read_shape(bundled_model_dir() / "model.onnx")
    for windows, tokens in ((8, 384), (16, 512)):
        growth = measured_growth(str(windows), str(tokens))["growth"]
        estimate = shape.call_bytes(windows, tokens)
        assert growth <= estimate <= 4 * growth
        with capsys.disabled():
            print(f"\n{windows} x {tokens} tokens: grew {growth / 2**20:.0f} MB, estimated {estimate / 2**20:.0f} MB")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory held is read from /proc")
def test_a_read_asking_for_more_memory_than_a_call_may_take_is_read_in_smaller_calls(capsys):
    figures = measured_growth("read", text=LONG_TEXT)
    shape = read_shape(bundled_model_dir() / "model.onnx")
    unbounded = shape.call_bytes(figures["windows"], 512)
    # The one batch asked for would have needed several GB; the calls were cut to MAX_BATCH_BYTES.
    assert figures["windows"] > 100 and unbounded > 3 * MAX_BATCH_BYTES
    assert figures["growth"] < 1.5 * MAX_BATCH_BYTES
    with capsys.disabled():
        print(
            f"\n{figures['windows']} windows of 512 tokens in one call: estimated {unbounded / 2**30:.1f} GB; "
            f"the read grew by {figures['growth'] / 2**30:.2f} GB"
        )


def test_a_seq_len_beyond_the_models_positions_is_one_clean_line(store, tmp_path, long_document):  # noqa: F811
    folder = model_copy(bundled_model_dir(), tmp_path / "long", seq_len=1024)
    assert "beyond the 512 positions" in clean_line(run("models", "add", str(folder), "--name", "long"))
    assert "beyond the 512 positions" in clean_line(run("ask", str(long_document), "Where?", "--model", str(folder)))
    line = clean_line(run("ask", str(long_document), "Where did she work?", "--seq-len", "1024"))
    assert "beyond the 512 positions" in line and "at most 512" in line
