"""Nothing the app runs opens a network socket or writes outside its own folders, even over minutes.

Each check runs a real job of at least 20 s (onnxruntime's telemetry, when it is on, starts its DNS
lookups after about 9 s) under ``strace -f``, with a fresh HOME, and reads every socket and every
file opened for writing, created, renamed or removed. The app's own folders are the ones
``reading_assistant.core.paths.writable_dirs`` names. Bytecode caches are turned off
(PYTHONDONTWRITEBYTECODE): they are Python's, written into an editable checkout on first import,
and a wheel or frozen app ships them precompiled.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECONDS = 20
QUESTION = "In which year did the harbour master of town 1200 count the ships?"
TRACED = ",".join(
    (
        *("network", "openat", "open", "creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2"),
        *("link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "truncate"),
    )
)
NETWORK_CALLS = ("socket(", "connect(", "bind(", "sendto(", "sendmsg(", "listen(", "accept(", "accept4(")
# The running window's own socket (a second start hands it its files): a Unix socket file inside the
# app's folders is no network; any other socket, and a Unix socket elsewhere, are.
UNIX_SOCKET = re.compile(r"^socket\(AF_UNIX\b.*= (\d+)$")
UNIX_ADDRESS = re.compile(r'sa_family=AF_UNIX, sun_path="((?:[^"\\]|\\.)*)"')
SOCKET_FD = re.compile(r"^\w+\((\d+)")
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")
CALL = re.compile(r"^\d+\s+(\w+)\((.*)")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
WRITING_CALLS = {"mkdir", "mkdirat", "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat"}
WRITING_CALLS |= {"unlink", "unlinkat", "truncate", "creat"}
# Devices, and an open file's own descriptor (QSaveFile links its O_TMPFILE file into place by it).
NOT_FILES = ("/dev/null", "/dev/tty", "/dev/pts/", "/proc/self/fd/")

# strace is Linux's: elsewhere (the release workflow's Windows and macOS runners) these traces cannot
# be taken. On Linux CI (.ci/run installs it) a missing strace fails rather than skips.
needs_strace = pytest.mark.skipif(
    not sys.platform.startswith("linux") or (shutil.which("strace") is None and not os.environ.get("CI")),
    reason="strace traces Linux only, and is not installed (.ci/run installs it)",
)


def book(path: Path) -> Path:
    """About 2,000 windows of plain prose: reading all of it takes over 30 s on two cores."""
    colours = ("red", "green", "blue", "white", "yellow", "grey", "black")
    lines = [
        f"The harbour master of town {n} counted {(n * 37) % 900 + 12} ships in the year {1700 + n % 300}, "
        f"and the bridge over its river was painted {colours[n % len(colours)]}."
        for n in range(10_000)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def clean_environment(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(home / "runtime"),  # a desktop session always has one
    }


def app_folders(env: dict[str, str]) -> list[Path]:
    code = "from reading_assistant.core.paths import writable_dirs; print('\\n'.join(map(str, writable_dirs())))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return [Path(line) for line in result.stdout.splitlines()]


def traced(command: list[str], env: dict[str, str], trace: Path, timeout: float | None = None) -> tuple[int, float]:
    started = time.perf_counter()
    strace = ["strace", "-f", "-qq", "-s", "4096", "-e", f"trace={TRACED}", "-o", str(trace)]
    if timeout is not None:
        command = ["timeout", "-s", "TERM", str(timeout), *command]
    result = subprocess.run([*strace, *command], env=env, capture_output=True, text=True, check=False)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return result.returncode, time.perf_counter() - started


def violations(trace: Path, allowed: list[Path], runtime_dir: Path) -> list[str]:
    """Every network call, and every write outside the app's folders (or their parents being made)."""
    parents = {parent for folder in allowed for parent in folder.parents}

    def inside(path: str) -> bool:
        return any(Path(path) == folder or folder in Path(path).parents for folder in [*allowed, runtime_dir])

    found = []
    unix_sockets: set[str] = set()  # descriptors of Unix sockets (the process's threads share them)
    for line in trace.read_text(errors="replace").splitlines():
        call = line.split(None, 1)[1] if " " in line else line
        if call.startswith(NETWORK_CALLS):
            made = UNIX_SOCKET.match(call)
            descriptor = SOCKET_FD.match(call)
            address = UNIX_ADDRESS.search(call)
            if made:
                unix_sockets.add(made.group(1))
            elif not (descriptor and descriptor.group(1) in unix_sockets and (address is None or inside(address[1]))):
                found.append(line)
            continue
        match = CALL.match(line)
        if not match or "= -1 E" in line:
            continue
        name, arguments = match.groups()
        if not (name in WRITING_CALLS or (name in ("open", "openat") and WRITE_FLAGS.search(arguments))):
            continue
        for path in QUOTED.findall(arguments):  # a rename or link writes at both of its paths
            making_a_parent = name in ("mkdir", "mkdirat") and Path(path) in parents
            if not (inside(path) or making_a_parent or path.startswith(NOT_FILES)):
                found.append(line)
                break
    return found


@pytest.fixture()
def reader(tmp_path) -> tuple[Path, dict[str, str], Path]:
    """A fresh HOME, an environment with nothing of the developer's in it, and a book to read."""
    home = tmp_path / "home"
    home.mkdir()
    return home, clean_environment(home), book(tmp_path / "book.txt")


def assert_stayed_on_the_machine(trace: Path, env: dict[str, str], home: Path) -> None:
    assert violations(trace, app_folders(env), home / "runtime") == []
    assert not (home / ".cache" / "Microsoft").exists()  # onnxruntime's telemetry folder


@needs_strace
def test_a_long_question_on_the_command_line_stays_on_the_machine(tmp_path, reader):
    home, env, document = reader
    command = [sys.executable, "-m", "reading_assistant", "ask", str(document), QUESTION, "--json"]
    returncode, seconds = traced([*command, "--max-windows", "0"], env, tmp_path / "trace")
    assert returncode == 0
    assert seconds >= SECONDS, f"the job took {seconds:.1f} s; make the book longer"
    assert_stayed_on_the_machine(tmp_path / "trace", env, home)


@needs_strace
def test_the_window_reading_a_book_stays_on_the_machine(tmp_path, reader):
    home, env, document = reader
    command = [sys.executable, "-m", "reading_assistant", str(document), "--question", QUESTION]
    returncode, seconds = traced(command, env, tmp_path / "trace", timeout=SECONDS + 5)
    assert returncode == 124, "the window should still be reading the book when it is stopped"
    assert seconds >= SECONDS
    log = next((home / ".local" / "state").rglob("reading-assistant.log")).read_text()
    assert "answered in" in log or "model minilm-squad-int8" in log  # it really loaded and read
    assert_stayed_on_the_machine(tmp_path / "trace", env, home)


def scanned_page(path: Path) -> Path:
    """A page of text as a picture, as a scanner makes it."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 7, "The harbour master of the old town counted forty ships in the year of the great storm.")
    page = pdfium.PdfDocument(bytes(pdf.output()))[0]
    page.render(scale=200 / 72, crop=(0, 700, 0, 0)).to_pil().save(path, dpi=(200, 200))
    return path


@needs_strace
def test_reading_a_scan_by_ocr_stays_on_the_machine(tmp_path, reader):
    """OCR runs its own onnxruntime sessions and keeps what it read: in the app's cache folder only."""
    home, env, _ = reader
    scan = scanned_page(tmp_path / "scan.png")
    command = [sys.executable, "-m", "reading_assistant", "ask", str(scan), "How many ships were counted?"]
    returncode, _ = traced(command, env, tmp_path / "trace")
    assert returncode == 0
    assert list((home / ".cache" / "reading-assistant" / "ocr").glob("*.json"))  # it really read the scan
    assert_stayed_on_the_machine(tmp_path / "trace", env, home)


def test_the_trace_reader_catches_sockets_and_stray_writes(tmp_path):
    """The checker itself: a socket, a DNS lookup, a write outside the app's folders and a Unix socket
    outside them are caught; the window's socket inside them is not."""
    allowed = [tmp_path / "home/.config/reading-assistant"]
    ours = allowed[0]
    trace = tmp_path / "trace"
    trace.write_text(
        "\n".join(
            [
                '12 openat(AT_FDCWD, "/usr/lib/x.so", O_RDONLY|O_CLOEXEC) = 3',
                f'12 mkdir("{tmp_path}/home/.config", 0777) = 0',
                f'12 openat(AT_FDCWD, "{ours}/settings.ini", O_WRONLY|O_CREAT, 0666) = 3',
                '12 openat(AT_FDCWD, "/dev/null", O_RDWR|O_CLOEXEC) = 4',
                f'12 openat(AT_FDCWD, "{tmp_path}/home/.cache/Microsoft/deviceid", O_WRONLY|O_CREAT, 0666) = 5',
                "13 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 6",
                '13 connect(6, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}, 16) = 0',
                f'12 openat(AT_FDCWD, "{tmp_path}/elsewhere.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EACCES',
                f'12 linkat(AT_FDCWD, "/proc/self/fd/9", AT_FDCWD, "{ours}/a", 0) = 0',
                f'12 rename("{ours}/a", "{tmp_path}/home/a") = 0',
                "14 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 7",
                f'14 bind(7, {{sa_family=AF_UNIX, sun_path="{ours}/window.socket"}}, 110) = 0',
                "15 listen(7, 50) = 0",
                f'14 connect(7, {{sa_family=AF_UNIX, sun_path="{tmp_path}/x11.socket"}}, 110) = 0',
            ]
        )
    )
    found = violations(trace, allowed, tmp_path / "runtime")
    kinds = [line.split()[1].split("(")[0] for line in found]
    assert kinds == ["openat", "socket", "connect", "rename", "connect"]  # the window's own socket is no network
    assert "Microsoft" in found[0]
    assert json.dumps(found)  # plain strings, printable in the failure message
