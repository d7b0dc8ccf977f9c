"""Check the frozen app that packaging/build.py made, as a reader would run it.

    python3 packaging/smoke_test.py                      # dist/reading-assistant (and the .app on macOS)
    python3 packaging/smoke_test.py --install-test dist/reading-assistant-*-linux-*.tar.gz

1. `reading-assistant --version` prints the version of app/__init__.py;
2. `reading-assistant ask DOC QUESTION --json` on a document it writes finds "Warsaw", and so do
   `ask` on a PDF of it (written here, read by pdfium), on a scan of that sentence
   (packaging/smoke-scan.png, read by OCR with the models the bundle carries) and `ask --library`
   once `library add` has indexed the document's folder (SQLite, the embedding model);
3. the window opens offscreen on that document with a question and is still running after
   --window-seconds (then it is ended): an earlier exit, or "Traceback"/"Fatal" on its standard
   error or an error in its log file, fails; halfway, a second start with the document must hand
   it to the running window and end (one running app);
4. with --install-test TARBALL (Linux): install.sh refuses a system older than the glibc the tarball
   names, writing nothing; then install.sh and uninstall.sh in a throwaway HOME, twice (the XDG
   folders unset, then set to folders whose names have a space and a quote): the files in place, the
   installed command answers (and writes its log, cache and library), no mimeapps.list anywhere;
   uninstall.sh leaves nothing of the install, keeps and names what the app wrote, and that goes with
   `uninstall.sh --purge` (the first time) or the `rm -rf` line it printed (the second).

packaging/linux/deb_test.py checks the .deb the same way, through apt.

Each run gets a fresh HOME (and XDG folders) in a temporary folder, removed at the end. Exits 0, or
1 with one line saying what failed. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
NAME = "reading-assistant"
DOCUMENT = "Marie Curie was born in Warsaw in 1867. She moved to Paris in 1891 to study physics.\n"
QUESTION = "Where was Marie Curie born?"
ANSWER = "Warsaw"
SCAN = Path(__file__).resolve().parent / "smoke-scan.png"  # DOCUMENT's first sentence, as a picture
TIMEOUT = 180  # seconds for one command; the first start of a frozen app unpacks nothing but is slow on CI
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


class Failure(Exception):
    pass


def expected_version() -> str:
    match = re.search(r'^__version__ = "([^"]+)"', (ROOT / "app" / "__init__.py").read_text(), re.MULTILINE)
    if not match:
        raise Failure("cannot read __version__ from app/__init__.py")
    return match.group(1)


def executables(app: Path) -> tuple[Path, Path]:
    """(command-line executable, windowed executable) inside a one-folder build or a .app."""
    if app.suffix == ".app":
        main = app / "Contents" / "MacOS" / NAME
        return main, main
    suffix = ".exe" if sys.platform == "win32" else ""
    console = app / f"{NAME}{suffix}"
    windowed = app / f"{NAME}-gui.exe" if sys.platform == "win32" else console
    return console, windowed


def fresh_environment(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "READING_ASSISTANT_"))}
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        APPDATA=str(home / "AppData" / "Roaming"),
        LOCALAPPDATA=str(home / "AppData" / "Local"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        READING_ASSISTANT_CONFIG_DIR=str(home / "config"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    (home / "runtime").mkdir(parents=True, exist_ok=True, mode=0o700)
    return env


def run(command: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, errors="replace")
    except subprocess.TimeoutExpired:
        raise Failure(f"{what}: no answer in {TIMEOUT} s") from None
    except OSError as error:
        raise Failure(f"{what}: cannot run {command[0]}: {error}") from None
    if result.returncode != 0:
        raise Failure(f"{what}: exit {result.returncode}: {last_line(result.stderr or result.stdout)}")
    return result


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def check_version(command: list[str], env: dict[str, str]) -> str:
    """``command`` starts the app: its executable, behind whatever runs it as another user."""
    output = run([*command, "--version"], env, "--version").stdout.strip()
    wanted = f"{NAME} {expected_version()}"
    if output != wanted:
        raise Failure(f"--version printed {output!r}, not {wanted!r}")
    return output


def check_ask(command: list[str], source: list[str], env: dict[str, str]) -> str:
    """``ask`` on ``source`` (a document, or --library ...) must answer ANSWER first."""
    started = time.monotonic()
    result = run([*command, "ask", *source, QUESTION, "--json"], env, "ask " + " ".join(source))
    try:
        answers = json.loads(result.stdout)["answers"]
    except (ValueError, KeyError, TypeError):
        raise Failure(f"ask --json printed no JSON answer: {last_line(result.stdout)}") from None
    if not answers or ANSWER not in answers[0]["text"]:
        raise Failure(f"ask answered {answers[0]['text'] if answers else None!r}, not {ANSWER!r}")
    return f"{answers[0]['text']!r} ({100 * answers[0]['score']:.0f}%, {time.monotonic() - started:.1f} s)"


def pdf_of(text: str) -> bytes:
    """A one-page PDF whose text layer is ``text`` on one line (Helvetica), written by hand."""
    escaped = text.strip().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 10 Tf 40 740 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
    return bytes(pdf)


def wait_for_log(process: subprocess.Popen, home: Path, words: str, seconds: float) -> int | None:
    """Wait until the app's log (under ``home``) says ``words``, at most ``seconds``; the process's
    exit status if it ended first, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if any(words in log.read_text(errors="replace") for log in home.rglob(f"{NAME}.log")):
            return None
        time.sleep(0.2)
    return process.poll()


def check_window(command: list[str], document: Path, env: dict[str, str], seconds: float, home: Path) -> str:
    env = dict(env, QT_QPA_PLATFORM="offscreen")
    errors = home / "window-stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [*command, str(document), "--question", QUESTION],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        code = wait_for_log(process, home, "one running window", seconds)
        try:
            if code is None:  # a second start hands its file to the running window and ends
                second = subprocess.run(
                    [*command, str(document)], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60
                )
                if second.returncode != 0 or process.poll() is not None:
                    raise Failure(
                        f"a second start did not hand its file to the running window (exit {second.returncode}): "
                        f"{last_line(second.stderr.decode(errors='replace'))}"
                    )
                try:
                    code = process.wait(timeout=seconds / 2)
                except subprocess.TimeoutExpired:
                    code = None
        except subprocess.TimeoutExpired as error:
            raise Failure("a second start did not end within 60 s: it should hand its file over") from error
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    text = errors.read_text(errors="replace")
    if code is not None:
        raise Failure(f"the window exited by itself after less than {seconds:.0f} s (exit {code}): {last_line(text)}")
    for word in ("Traceback", "Fatal", "Could not load the Qt platform plugin"):
        if word in text:
            raise Failure(f"the window wrote {word!r} on standard error: {last_line(text)}")
    logs = list(home.rglob(f"{NAME}.log"))
    for log in logs:
        bad = [
            line for line in log.read_text(errors="replace").splitlines() if " ERROR " in line or "Traceback" in line
        ]
        if bad:
            raise Failure(f"the window logged an error in {log.name}: {bad[0].strip()}")
    return f"still running after {seconds:.0f} s (a second start handed it its file), then ended" + (
        f"; its log has no error ({len(logs)} file)" if logs else ""
    )


def write_documents(folder: Path) -> Path:
    """The document as text and as a PDF in ``folder``; returns the text file."""
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / "curie.txt"
    document.write_text(DOCUMENT, encoding="utf-8")
    (folder / "curie.pdf").write_bytes(pdf_of(DOCUMENT))
    return document


def check_app(app: Path, seconds: float) -> None:
    console, windowed = executables(app)
    for executable in {console, windowed}:
        if not executable.is_file():
            raise Failure(f"no executable {executable}")
    with tempfile.TemporaryDirectory(prefix="reading-assistant-smoke-") as folder:
        home = Path(folder) / "home"
        home.mkdir()
        env = fresh_environment(home)
        document = write_documents(Path(folder) / "documents")
        library = ["--library-file", str(home / "library.sqlite3")]
        print(f"smoke test: {app}")
        print(f"  --version: {check_version([str(console)], env)}")
        print(f"  ask: {check_ask([str(console)], [str(document)], env)}")
        print(f"  ask a PDF: {check_ask([str(console)], [str(document.with_suffix('.pdf'))], env)}")
        print(f"  ask a scan (OCR): {check_ask([str(console)], [str(SCAN)], env)}")
        run([str(console), "library", "add", str(document.parent), *library], env, "library add")
        print(f"  ask the library: {check_ask([str(console)], ['--library', *library], env)}")
        print(f"  window: {check_window([str(windowed)], document, env, seconds, home)}")


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


# The XDG base folders that the app (not install.sh) may create in a new home, and leaves to it.
XDG_BASES = {".config", ".cache", ".local", ".local/state", ".local/share"}


def check_glibc_refusal(source: Path, home: Path) -> str:
    """install.sh on a system older than needs-glibc refuses, naming the version, and writes nothing."""
    needs = source / "needs-glibc"
    floor = needs.read_text(encoding="ascii").strip()
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env["HOME"] = str(home)
    needs.write_text("99.0\n", encoding="ascii")
    try:
        result = subprocess.run(["sh", str(source / "install.sh")], env=env, capture_output=True, text=True)
    finally:
        needs.write_text(f"{floor}\n", encoding="ascii")
    if result.returncode == 0 or "needs glibc 99.0 or newer" not in result.stderr:
        raise Failure(f"install.sh did not refuse a system older than glibc 99.0: {last_line(result.stderr)}")
    if files_under(home):
        raise Failure(f"install.sh refused, but wrote {files_under(home)[0]}")
    return f"needs glibc {floor}; an older system refused: {last_line(result.stderr)}"


def app_folders(home: Path, env: dict[str, str]) -> dict[str, Path]:
    """The folders the app writes for its user, where platformdirs puts them (absolute XDG_* or default)."""
    defaults = {"XDG_CONFIG_HOME": ".config", "XDG_STATE_HOME": ".local/state"}
    defaults |= {"XDG_DATA_HOME": ".local/share", "XDG_CACHE_HOME": ".cache"}
    folders = {}
    for variable, default in defaults.items():
        value = env.get(variable, "")
        folders[variable] = (Path(value) if os.path.isabs(value) else home / default) / NAME
    return folders


def use_installed(command: Path, document: Path, home: Path, env: dict[str, str]) -> dict[str, Path]:
    """Ask the installed command, so it writes its log, OCR cache and library; the window's settings
    file is written as the window would. Returns the app's folders, each checked to exist."""
    check_ask([str(command)], [str(document)], env)
    check_ask([str(command)], [str(SCAN)], env)
    run([str(command), "library", "add", str(document.parent)], env, "the installed library add")
    folders = app_folders(home, env)
    folders["XDG_CONFIG_HOME"].mkdir(parents=True, exist_ok=True)
    (folders["XDG_CONFIG_HOME"] / "settings.ini").write_text("[General]\nquestions=Where was Marie Curie born?\n")
    absent = [str(folder) for folder in folders.values() if not folder.is_dir()]
    if absent:
        raise Failure(f"the installed app wrote no {', '.join(absent)}")
    return folders


def check_uninstall(source: Path, lib: Path, folders: dict[str, Path], env: dict[str, str], purge: bool) -> str:
    """uninstall.sh keeps and names the app's folders; --purge, or the line it printed, removes them."""
    said = run(["sh", str(lib / "uninstall.sh")], env, "uninstall.sh").stdout
    unnamed = [str(folder) for folder in folders.values() if str(folder) not in said or not folder.is_dir()]
    if unnamed:
        raise Failure(f"uninstall.sh did not keep and name {unnamed[0]}: {said!r}")
    if purge:
        run(["sh", str(source / "uninstall.sh"), "--purge"], env, "uninstall.sh --purge")
        how = "uninstall.sh --purge"
    else:
        removal = next((line for line in said.splitlines() if line.startswith("Remove them with: ")), None)
        if removal is None:
            raise Failure(f"uninstall.sh printed no command that removes what it kept: {said!r}")
        run(["sh", "-c", removal.removeprefix("Remove them with: ")], env, "the printed rm -rf")
        how = "the rm -rf line it printed"
    left = [str(folder) for folder in folders.values() if folder.exists() or folder.is_symlink()]
    if left:
        raise Failure(f"{how} left {left[0]}")
    return f"kept and named {len(folders)} folders, removed by {how}"


def check_install(tarball: Path) -> None:
    if not sys.platform.startswith("linux"):
        raise Failure("--install-test is for the Linux tarball, on Linux")
    if not tarball.is_file():
        raise Failure(f"no tarball {tarball}")
    print(f"install test: {tarball.name}")
    with tempfile.TemporaryDirectory(prefix="reading-assistant-install-") as folder:
        unpacked = Path(folder) / "unpacked"
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="tar") if hasattr(tarfile, "data_filter") else archive.extractall(
                unpacked
            )
        tops = list(unpacked.iterdir())
        if len(tops) != 1 or not (tops[0] / "install.sh").is_file():
            raise Failure("the tarball has no single folder with install.sh")
        source = tops[0]
        document = write_documents(Path(folder) / "documents")
        print(f"  {check_glibc_refusal(source, Path(folder) / 'home-old')}")
        for custom_folders in (False, True):
            home = Path(folder) / ("home-xdg" if custom_folders else "home")
            home.mkdir()
            env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "READING_"))}
            env["HOME"] = str(home)
            data_home = home / ".local" / "share"
            if custom_folders:  # a space, a comma and a quote, as a reader's folder names may have
                xdg = home / "xdg folders, reader's"
                for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
                    env[variable] = str(xdg / variable.lower())
                    (xdg / variable.lower()).mkdir(parents=True)
                data_home = xdg / "xdg_data_home"
            before = files_under(home)
            run(["sh", str(source / "install.sh")], env, "install.sh")
            lib = home / ".local" / "lib" / NAME
            executable = lib / NAME
            link = home / ".local" / "bin" / NAME
            desktop = data_home / "applications" / f"{NAME}.desktop"
            wanted = [executable, lib / "uninstall.sh", lib / "installed-files", lib / "LICENSE", desktop]
            wanted += [data_home / "icons" / "hicolor" / f"{s}x{s}" / "apps" / f"{NAME}.png" for s in ICON_SIZES]
            wanted.append(data_home / "icons" / "hicolor" / "scalable" / "apps" / f"{NAME}.svg")
            missing = [str(path.relative_to(home)) for path in wanted if not path.is_file()]
            if missing:
                raise Failure(f"install.sh did not install {', '.join(missing)}")
            if not link.is_symlink() or link.resolve() != executable.resolve():
                raise Failure(f"{link} is not a link to {executable}")
            entry = desktop.read_text()
            if f'Exec="{executable}" %f' not in entry:
                raise Failure(f"the desktop entry's Exec is not the installed executable: {entry!r}")
            if "application/pdf" not in entry or "application/epub+zip" not in entry:
                raise Failure("the desktop entry lists no MimeType for documents")
            if shutil.which("desktop-file-validate"):
                run(["desktop-file-validate", str(desktop)], env, "desktop-file-validate")
            version = check_version([str(link)], env)
            installed = len(files_under(home)) - len(before)
            folders = use_installed(link, document, home, env)
            touched = list(home.rglob("mimeapps.list"))
            if touched:
                raise Failure(f"install.sh wrote {touched[0]}: default applications must never change")
            kept = check_uninstall(source, lib, folders, env, purge=not custom_folders)
            left = sorted(set(files_under(home)) - set(before) - XDG_BASES)
            if left:
                raise Failure(f"uninstall.sh left {len(left)} paths behind, e.g. {left[0]}")
            where = "XDG folders with a space and a quote" if custom_folders else "XDG folders unset"
            print(f"  {where}: {installed} paths installed, {version} answered, no mimeapps.list, all removed; {kept}")


def default_apps() -> list[Path]:
    apps = [DIST / NAME]
    bundle = DIST / "Reading Assistant.app"
    if sys.platform == "darwin" and bundle.is_dir():
        apps.append(bundle)
    return apps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the frozen Reading Assistant.")
    parser.add_argument("app", nargs="*", type=Path, help="one-folder build or .app (default: what build.py made)")
    parser.add_argument("--window-seconds", type=float, default=8.0, help="how long the window must stay up")
    parser.add_argument("--install-test", type=Path, metavar="TARBALL", help="also test install.sh and uninstall.sh")
    parser.add_argument("--skip-app", action="store_true", help="only the install test")
    arguments = parser.parse_args(argv)
    try:
        if not arguments.skip_app:
            for app in arguments.app or default_apps():
                if not app.exists():
                    raise Failure(f"no {app}: build it with python3 packaging/build.py")
                check_app(app.resolve(), arguments.window_seconds)
        if arguments.install_test is not None:
            check_install(arguments.install_test.resolve())
    except Failure as failure:
        print(f"smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
