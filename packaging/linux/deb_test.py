"""Check the .deb as a Debian or Ubuntu user gets it, through apt (as root: CI runs it so):

    python3 packaging/linux/deb_test.py dist/reading-assistant_*.deb

1. its Depends names libc6 at the glibc the app needs (read from the installed files), and apt
   refuses a package that needs a newer glibc than the system's, naming libc6 and the version;
   the Debian versions sort as pip sorts the app's (dpkg --compare-versions);
2. `apt-get install ./FILE.deb`: the command, desktop entry, icons, AppStream metadata (checked by
   appstreamcli, with the desktop entry beside it) and copyright are where they belong;
3. as another user (nobody, with a home of its own), `reading-assistant --version` and `ask` answer
   "Warsaw" from a text and a scan, and the window that the desktop entry's Exec line starts is
   still running after --window-seconds;
4. `apt-get remove` says what stays in each user's home, leaves it there and takes every file of the
   package; `apt-get purge` leaves the package unknown to dpkg.

Refuses to run where reading-assistant is installed already; purges what it installed, even when a
check fails. Exits 0, or 1 with one line saying what failed. Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGING = HERE.parent
NAME = "reading-assistant"
NOBODY = 65534
APT = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
# Versions as pip orders them, oldest first (PEP 440): their Debian forms must sort the same way.
PIP_ORDER = [
    "1.0.dev1",
    "1.0a1.dev2",
    "1.0a1",
    "1.0b2",
    "1.0rc1",
    "1.0",
    "1.0.post1.dev1",
    "1.0.post1",
    "1.0.post1+local.7",
    "1.1",
    "2!0.5",
]


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


smoke = load(PACKAGING / "smoke_test.py", "reading_assistant_smoke_test")
make_deb = load(HERE / "make_deb.py", "reading_assistant_make_deb")
bundle = load(HERE / "bundle.py", "reading_assistant_linux_bundle")
Failure = smoke.Failure


def apt(*arguments: str, what: str) -> str:
    """apt-get with its output (which carries the maintainer scripts' own)."""
    try:
        result = subprocess.run(
            ["apt-get", "-y", *arguments], env=dict(os.environ, **APT), capture_output=True, text=True, timeout=900
        )
    except subprocess.TimeoutExpired:
        raise Failure(f"{what}: no end in 900 s") from None
    if result.returncode != 0:
        raise Failure(f"{what}: exit {result.returncode}: {smoke.last_line(result.stderr or result.stdout)}")
    return result.stdout


def installed() -> bool:
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", NAME], capture_output=True, text=True)
    return status.returncode == 0 and "not-installed" not in status.stdout


def check_versions() -> str:
    debian = [make_deb.debian_version(version) for version in PIP_ORDER]
    for older, newer in itertools.pairwise(debian):
        if subprocess.run(["dpkg", "--compare-versions", older, "lt", newer]).returncode != 0:
            raise Failure(f"dpkg does not sort {older} before {newer}")
    return f"{len(debian)} versions sort as pip sorts them ({debian[0]} ... {debian[-1]})"


def check_refusal(package: Path, folder: Path) -> str:
    """A package needing glibc 99.0 (the real one's control file, nothing else) is refused by apt."""
    fake = folder / "old-system"
    (fake / "DEBIAN").mkdir(parents=True)
    control = smoke.run(["dpkg-deb", "--field", str(package)], dict(os.environ), "dpkg-deb --field").stdout
    control = re.sub(r"libc6 \(>= [^)]*\)", "libc6 (>= 99.0)", control)
    control = re.sub(r"^Installed-Size: .*\n", "", control, flags=re.MULTILINE)
    (fake / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    refused = folder / "needs-glibc-99.deb"
    smoke.run(["dpkg-deb", "--root-owner-group", "--build", str(fake), str(refused)], dict(os.environ), "dpkg-deb")
    result = subprocess.run(
        ["apt-get", "install", "--simulate", str(refused)], env=dict(os.environ, **APT), capture_output=True, text=True
    )
    said = result.stdout + result.stderr
    if result.returncode == 0 or "libc6 (>= 99.0)" not in said:
        raise Failure(f"apt did not refuse a package that needs glibc 99.0: {smoke.last_line(said)}")
    line = next(line.strip() for line in said.splitlines() if "libc6 (>= 99.0)" in line)
    return f"a package that needs a newer glibc is refused: {line}"


def check_files() -> list[str]:
    files = smoke.run(["dpkg", "-L", NAME], dict(os.environ), "dpkg -L").stdout.splitlines()
    metainfo = f"/usr/share/metainfo/{make_deb.APPSTREAM_ID}.metainfo.xml"
    desktop = f"/usr/share/applications/{NAME}.desktop"
    wanted = [f"/usr/bin/{NAME}", f"/usr/lib/{NAME}/{NAME}", desktop, metainfo, f"/usr/share/doc/{NAME}/copyright"]
    wanted += [f"/usr/share/icons/hicolor/{s}x{s}/apps/{NAME}.png" for s in smoke.ICON_SIZES]
    missing = [path for path in wanted if path not in files or not os.path.exists(path)]
    if missing:
        raise Failure(f"the package did not install {', '.join(missing)}")
    smoke.run(["desktop-file-validate", desktop], dict(os.environ), "desktop-file-validate")
    smoke.run(["appstreamcli", "validate", "--no-net", metainfo], dict(os.environ), "appstreamcli validate")
    return files


def as_nobody(home: Path) -> tuple[list[str], dict[str, str]]:
    """The command prefix and environment that run a program as nobody, with ``home`` as its home."""
    runtime = home / "runtime"
    for folder in (home, runtime):
        folder.mkdir(exist_ok=True)
        os.chown(folder, NOBODY, NOBODY)
    runtime.chmod(0o700)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "READING_ASSISTANT_"))}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), PATH="/usr/bin:/bin")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"], env


def check_as_user(folder: Path, seconds: float) -> list[str]:
    """The installed app answers another user; returns the folders it wrote in that user's home."""
    documents = folder / "documents"
    document = smoke.write_documents(documents)
    scan = documents / smoke.SCAN.name  # where nobody may read it, whatever the checkout's permissions
    scan.write_bytes(smoke.SCAN.read_bytes())
    documents.chmod(0o755)
    home = folder / "home"
    prefix, env = as_nobody(home)
    command = [*prefix, NAME]
    print(f"  as nobody: {smoke.check_version(command, env)}")
    print(f"  ask: {smoke.check_ask(command, [str(document)], env)}")
    print(f"  ask a scan (OCR): {smoke.check_ask(command, [str(scan)], env)}")
    entry = Path(f"/usr/share/applications/{NAME}.desktop").read_text(encoding="utf-8")
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    launcher = [part for part in shlex.split(exec_line.removeprefix("Exec=")) if part not in ("%f", "%F", "%u", "%U")]
    window = smoke.check_window([*prefix, *launcher], document, env, seconds, home)
    print(f"  window from the menu entry's {' '.join(launcher)}: {window}")
    written = [str(path) for path in (home / ".local" / "state" / NAME, home / ".cache" / NAME) if path.is_dir()]
    if len(written) < 2:
        raise Failure(f"the app wrote no log or no OCR cache in {home}")
    return written


def check_removal(files: list[str], written: list[str]) -> str:
    said = apt("remove", NAME, what="apt-get remove")
    if "stays in their home folder" not in said:
        raise Failure(f"apt-get remove did not say what stays in the users' homes: {smoke.last_line(said)}")
    left = [path for path in files if os.path.isfile(path) or os.path.islink(path)]
    if left:
        raise Failure(f"apt-get remove left {len(left)} files, e.g. {left[0]}")
    gone = [path for path in written if not os.path.isdir(path)]
    if gone:
        raise Failure(f"apt-get remove took the user's {gone[0]}")
    apt("purge", NAME, what="apt-get purge")
    if installed():
        raise Failure("dpkg still knows reading-assistant after apt-get purge")
    return f"remove took {len(files)} paths and said what stays ({len(written)} folders kept); purge left nothing"


def check_deb(package: Path, seconds: float) -> None:
    if os.geteuid() != 0:
        raise Failure("the .deb test installs with apt-get: run it as root")
    if not package.is_file():
        raise Failure(f"no package {package}: make it with python3 packaging/linux/make_deb.py")
    if installed():
        raise Failure(f"{NAME} is installed on this system already: remove it first")
    print(f"deb test: {package.name}")
    depends = smoke.run(["dpkg-deb", "--field", str(package), "Depends"], dict(os.environ), "dpkg-deb --field").stdout
    with tempfile.TemporaryDirectory(prefix="reading-assistant-deb-") as name:
        folder = Path(name)
        folder.chmod(0o755)
        print(f"  {check_versions()}")
        print(f"  {check_refusal(package, folder)}")
        try:
            apt("install", str(package), what="apt-get install")
            floor = bundle.glibc_floor(Path(f"/usr/lib/{NAME}"))
            if f"libc6 (>= {floor})" not in depends:
                raise Failure(f"Depends does not ask for libc6 (>= {floor}), the glibc the app needs: {depends}")
            print(f"  installed; Depends asks for libc6 (>= {floor}), the glibc its files need")
            files = check_files()
            print(f"  {len(files)} paths; desktop entry and AppStream metadata valid")
            written = check_as_user(folder, seconds)
            print(f"  {check_removal(files, written)}")
        finally:
            if installed():
                subprocess.run(["apt-get", "-y", "purge", NAME], env=dict(os.environ, **APT), capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install, use and remove the .deb through apt.")
    parser.add_argument("package", type=Path, help="the .deb that make_deb.py made")
    parser.add_argument("--window-seconds", type=float, default=8.0, help="how long the window must stay up")
    arguments = parser.parse_args(argv)
    try:
        check_deb(arguments.package.resolve(), arguments.window_seconds)
    except (Failure, bundle.BundleError) as failure:
        print(f"deb test FAILED: {failure}", file=sys.stderr)
        return 1
    print("deb test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
