"""One running window: a second start hands its file to the first, through a real local socket and a
real second process; Finder's file-open events (posted here as Qt would post them on macOS)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtNetwork import QLocalSocket
from PySide6.QtWidgets import QApplication

from reading_assistant.core.paths import instance_address
from reading_assistant.gui.main import open_handed_over
from reading_assistant.gui.single_instance import (
    FileOpenFilter,
    OpenRequest,
    claim_or_hand_over,
    decode,
    encode,
)

pytest_plugins = ["tests.test_gui"]  # the model_dir, store and window fixtures

CURIE = "Marie Curie was born in Warsaw in 1867 and moved to Paris in 1891 to study at the Sorbonne.\n"
unix_only = pytest.mark.skipif(sys.platform == "win32", reason="a socket file; Windows uses a named pipe")


@pytest.fixture
def running(window):
    """The window as ``run_gui`` makes it: listening for later starts on this test's own address."""
    server = claim_or_hand_over(OpenRequest((), None))
    assert server is not None  # no window ran: this start is the window
    server.setParent(window)
    server.open_requested.connect(lambda request: open_handed_over(window, request))
    yield window, server
    server.close()


def start(*arguments: str) -> subprocess.Popen:
    """A second start of the app, as a reader's desktop runs it (the same user and folders)."""
    return subprocess.Popen(
        [sys.executable, "-m", "reading_assistant", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | {"QT_QPA_PLATFORM": "offscreen"},
    )


def test_a_second_start_gives_its_file_and_question_to_the_running_window(qtbot, running, tmp_path):
    window, _ = running
    book = tmp_path / "curie.txt"
    book.write_text(CURIE, encoding="utf-8")
    second = start(str(book), "--question", "Where was Marie Curie born?")
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=60000)
    out, err = second.communicate()
    assert second.returncode == 0 and err.decode() == "" and out.decode() == ""
    qtbot.waitUntil(
        lambda: window.document is not None and window.prediction is not None and not window.controller.reading,
        timeout=60000,
    )
    assert window.document.origin == str(book)
    assert window.prediction.answers[0].text == "Warsaw"


def test_a_start_without_a_file_brings_the_running_window_forward(qtbot, running):
    window, _ = running
    window.showMinimized()
    second = start()
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=60000)
    assert second.returncode == 0
    qtbot.waitUntil(lambda: not window.isMinimized(), timeout=5000)
    assert window.document is None


def test_with_no_window_running_a_start_becomes_the_window_even_over_a_crashed_ones_socket(qapp, tmp_path):
    address = str(tmp_path / "run" / "window.socket") if sys.platform != "win32" else "ra-test-crashed"
    if sys.platform != "win32":
        Path(address).parent.mkdir()
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(address)  # a socket file nobody listens on, as a killed window leaves it
        stale.close()
    server = claim_or_hand_over(OpenRequest((), None), address)
    assert server is not None and server.server.isListening()
    server.close()


@unix_only
def test_the_socket_is_its_users_alone(running):
    _, server = running
    mode = Path(server.address).stat().st_mode
    assert mode & 0o077 == 0 and Path(server.address).parent.stat().st_mode & 0o077 == 0
    assert server.address == instance_address()


def test_what_is_not_a_start_s_request_is_dropped(qtbot, running):
    window, server = running
    taken = []
    server.open_requested.connect(taken.append)
    for junk in (b"not json\n", b'{"files": ["relative.txt"]}\n', b'{"files": "x"}\n', b"[" * 100_000 + b"\n"):
        client = QLocalSocket()
        client.connectToServer(server.address)
        assert client.waitForConnected(2000)
        client.write(junk)
        client.waitForBytesWritten(2000)
        qtbot.waitUntil(lambda c=client: c.state() == c.LocalSocketState.UnconnectedState, timeout=5000)
    assert taken == [] and window.document is None


def test_requests_round_trip_and_are_checked():
    request = OpenRequest((Path("/tmp/a b.txt").absolute(),), "Wie heißt sie?")
    assert decode(encode(request)) == request
    assert decode(b'{"files": [], "question": 3}') is None
    assert decode(b'{"files": ["' + b'/x",  "' * 200 + b'/y"]}') is None  # more than a start sends


def test_finder_file_open_events_open_the_file(qtbot, window, tmp_path):
    book = tmp_path / "curie.txt"
    book.write_text(CURIE, encoding="utf-8")
    finder = FileOpenFilter(window)
    finder.file_opened.connect(window.open_file)
    app = QApplication.instance()
    app.installEventFilter(finder)
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(book)))
        qtbot.waitUntil(lambda: window.document is not None and window.document.origin == str(book), timeout=30000)
    finally:
        app.removeEventFilter(finder)
