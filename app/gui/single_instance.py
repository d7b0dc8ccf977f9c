"""One running window: a second start hands its files to the first and ends.

The first window listens on a local socket (a socket file in the user's runtime folder, or a named
pipe on Windows; never the network), open to its own user only. A later start connects there,
sends its files and question as one JSON line, waits for the window to say it took them, and
exits; when no window answers (none runs, or one crashed and left its socket file), it becomes
the window. A lock file makes "connect, else listen" one step, so two starts at once never both
listen. Files opened from Finder arrive as ``QFileOpenEvent`` instead, at launch as while the app
runs: ``FileOpenFilter`` takes them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QLockFile, QObject, QTimer, Signal
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ..core.paths import instance_address, runtime_dir

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024  # files and a question; anything longer is not a start's message
MAX_FILES = 100
CONNECT_MS = 1000
ANSWER_MS = 5000  # the window takes the files between two events: well under this
CLIENT_MS = 5000  # a client that has not sent its line by then is dropped
LOCK_MS = 10_000
TOOK_THEM = b"ok\n"
LISTENING = "one running window"  # in the log once it listens (the frozen app's smoke test waits for it)


@dataclass(frozen=True)
class OpenRequest:
    """What a start asks the running window: files to open (absolute paths) and a question."""

    files: tuple[Path, ...]
    question: str | None


def encode(request: OpenRequest) -> bytes:
    message = {"files": [str(path) for path in request.files], "question": request.question}
    return json.dumps(message, ensure_ascii=True).encode("ascii") + b"\n"


def decode(line: bytes) -> OpenRequest | None:
    """The request in ``line``, or None when it is not one (a stray or hostile client)."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    files, question = message.get("files"), message.get("question")
    if not isinstance(files, list) or len(files) > MAX_FILES or not all(isinstance(f, str) and f for f in files):
        return None
    if question is not None and not isinstance(question, str):
        return None
    paths = tuple(Path(f) for f in files)
    if not all(path.is_absolute() for path in paths):
        return None
    return OpenRequest(paths, question or None)


def hand_over(request: OpenRequest, address: str) -> bool:
    """Give ``request`` to the window running at ``address``; True when it took it."""
    socket = QLocalSocket()
    socket.connectToServer(address)
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(encode(request))
    if not socket.waitForBytesWritten(ANSWER_MS):
        socket.abort()
        return False
    answer = b""
    while len(answer) < len(TOOK_THEM) and socket.waitForReadyRead(ANSWER_MS):
        answer += bytes(socket.readAll())
    socket.abort()
    return answer.startswith(TOOK_THEM)


class InstanceServer(QObject):
    """The running window's end of the socket: each request it takes becomes ``open_requested``."""

    open_requested = Signal(object)  # OpenRequest

    def __init__(self, address: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.address = address
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        QLocalServer.removeServer(self.address)  # a socket file left by a window that crashed
        if not self.server.listen(self.address):
            log.warning("no other start can hand this window its files: %s", self.server.errorString())
            return False
        log.info("%s: later starts hand their files to this window", LISTENING)
        return True

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            received = bytearray()
            socket.readyRead.connect(lambda s=socket, r=received: self._read(s, r))
            socket.disconnected.connect(socket.deleteLater)
            QTimer.singleShot(CLIENT_MS, socket, socket.abort)

    def _read(self, socket: QLocalSocket, received: bytearray) -> None:
        received += bytes(socket.read(MAX_MESSAGE_BYTES + 1 - len(received)))
        if b"\n" not in received:
            if len(received) > MAX_MESSAGE_BYTES:
                socket.abort()
            return
        request = decode(bytes(received.partition(b"\n")[0]))
        if request is None:
            socket.abort()
            return
        socket.write(TOOK_THEM)
        socket.flush()
        socket.disconnectFromServer()
        self.open_requested.emit(request)


def claim_or_hand_over(request: OpenRequest, address: str | None = None) -> InstanceServer | None:
    """This start's part: the listening ``InstanceServer`` when it is to be the window, or None when
    a running window took ``request`` (then this start ends). When the lock cannot be had (a start
    that hangs), this start becomes a window of its own rather than none."""
    address = address or instance_address()
    folder = Path(address).parent if sys.platform != "win32" else runtime_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # made before, by an older app or by hand: its user's alone
        folder.chmod(0o700)
    lock: QLockFile | None = QLockFile(str(folder / f"{Path(address).name}.lock"))
    lock.setStaleLockTime(LOCK_MS)
    if not lock.tryLock(LOCK_MS):
        log.warning("another start holds the window's lock: this one opens a window of its own")
        lock = None
    try:
        if hand_over(request, address):
            return None
        server = InstanceServer(address)
        server.listen()
        return server
    finally:
        if lock is not None:
            lock.unlock()


class FileOpenFilter(QObject):
    """Files macOS opens with the app (Finder, Open With, a dropped icon): ``QFileOpenEvent`` on the
    application, at launch as while it runs."""

    file_opened = Signal(object)  # Path

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            name = event.file() or event.url().toLocalFile()
            if name:
                self.file_opened.emit(Path(name))
                return True
        return super().eventFilter(watched, event)
