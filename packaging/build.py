"""Build the frozen Reading Assistant (PyInstaller, one folder) from a clone, in one command:

    python3 packaging/build.py

1. makes its own build environment, build/venv (kept between runs; --fresh-venv starts it anew),
   and installs PyInstaller and this project into it, not editable, with `-c constraints.txt`;
2. runs PyInstaller on packaging/reading-assistant.spec with --noconfirm --clean, so every run
   rebuilds from nothing: dist/reading-assistant/ (and dist/Reading Assistant.app on macOS);
3. the spec calls write_notices() below: the bundle gets a copy of LICENSE and
   THIRD-PARTY-NOTICES.txt, the licence metadata and files of every distribution it contains;
4. on Linux, trims the bundle (packaging/linux/bundle.py: strips the libraries, takes from Qt's ICU
   data what the app never reads) and reads the newest glibc it needs; then packs
   dist/reading-assistant-<version>-linux-<machine>.tar.gz with install.sh and uninstall.sh
   (packaging/linux/), the desktop entry, the icons and `needs-glibc`, that version, which install.sh
   checks (--no-tarball skips it). packaging/linux/make_deb.py makes the .deb from the same bundle;
5. prints what each part of the bundle weighs (PARTS).

Then `python3 packaging/smoke_test.py` checks the result. Standard library only: this file runs on
the system's Python 3.11 and, imported by the spec, inside the build environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
VENV = BUILD / "venv"
WORK = BUILD / "pyinstaller"
NOTICES = BUILD / "notices"
SPEC = PACKAGING / "reading-assistant.spec"
CONSTRAINTS = ROOT / "constraints.txt"
APP_NAME = "reading-assistant"
PROJECT = "reading-assistant"
# Installed into the build environment to make the bundle, never bundled: no notices for them.
BUILD_ONLY = {
    "pyinstaller",
    "pyinstaller-hooks-contrib",
    "altgraph",
    "macholib",
    "pefile",
    "pywin32-ctypes",
    "setuptools",
    "pip",
    "wheel",
}
LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|notice|copyright|authors|thirdpartynotices)", re.IGNORECASE)
# The bundle's parts, by the path of each file inside it (the first that matches): (part, pattern,
# whether it is an optional feature's, which the size budget counts apart).
PARTS = [
    ("the GPU model (fp16; kept where onnxruntime has a GPU provider)", r"/models/[^/]+/model_fp16\.onnx$", True),
    ("the question-answering model", r"reading_assistant/models/minilm-squad", False),
    ("the embedding model (the library's search by meaning)", r"reading_assistant/models/minilm-embed", True),
    ("OCR: its two PP-OCR models", r"(^|/)rapidocr/", True),
    ("OCR: Pillow and its image libraries", r"(^|/)(PIL|pillow\.libs|pillow-[^/]*)/", True),
    ("onnxruntime", r"(^|/)onnxruntime", False),
    ("ICU, which QtCore links (Linux)", r"(^|/)libicu", False),
    ("Qt and PySide6", r"(^|/)(PySide6|shiboken6)/", False),
    ("numpy with OpenBLAS", r"(^|/)numpy", False),
    ("tokenizers", r"(^|/)tokenizers/", False),
    ("pdfium (PDF)", r"(^|/)pypdfium2", False),
    ("X11 libraries for Qt's xcb plugin (Linux)", r"(^|/)lib(xcb|xkbcommon)", False),
    (
        "Python and the app's code (in the launcher)",
        r"(^|/)((lib)?python3|base_library\.zip$|reading-assistant)",
        False,
    ),
]
# What the bundle may weigh without the optional features' parts (issue 35), in MB.
CORE_BUDGET_MB = 200


def log(message: str) -> None:
    print(f"build.py: {message}", flush=True)


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    log("$ " + " ".join(str(part) for part in command))
    subprocess.run([str(part) for part in command], check=True, cwd=cwd, env=env)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def python_says(python: Path, code: str) -> str:
    """What ``code`` prints when run by the build environment's ``python``."""
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def python_version(python: Path) -> str:
    return python_says(python, "import sys; print(*sys.version_info[:2], sep='.')")


def make_venv(fresh: bool) -> Path:
    python = venv_python()
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python.exists() and not fresh:
        try:
            same = python_version(python) == wanted
        except (OSError, subprocess.CalledProcessError):
            same = False
        if same:
            log(f"reusing {VENV.relative_to(ROOT)}")
            return python
    if VENV.exists():
        shutil.rmtree(VENV)
    log(f"creating {VENV.relative_to(ROOT)} with Python {wanted}")
    venv.create(VENV, with_pip=True)
    return python


def install(python: Path, constraints: Path) -> None:
    # setuptools builds in the source tree: an old build/lib could slip removed files into the wheel.
    for stale in [BUILD / "lib", *BUILD.glob("bdist.*")]:
        shutil.rmtree(stale, ignore_errors=True)
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "-c", constraints]
    run(*pip, "pyinstaller", ROOT)
    # Reused environment: the project again, whatever pip thinks of its unchanged version number.
    run(*pip, "--no-deps", "--force-reinstall", ROOT)


def pyinstaller(python: Path) -> None:
    shutil.rmtree(NOTICES, ignore_errors=True)
    run(
        python, "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", DIST, "--workpath", WORK, SPEC,
        cwd=BUILD,
        # PyInstaller's binary cache goes to build/, not to ~/.cache/pyinstaller.
        env=dict(os.environ, PYINSTALLER_CONFIG_DIR=str(BUILD / "pyinstaller-cache")),
    )  # fmt: skip


# --- Licence notices (called from the spec, inside the build environment) ---------------------------


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution_index():
    """Every file of every installed distribution -> that distribution."""
    from importlib import metadata

    index = {}
    for dist in metadata.distributions():
        for file in dist.files or ():
            index[os.path.normcase(os.path.abspath(dist.locate_file(file)))] = dist
    return index


def _licence_texts(dist) -> list[tuple[str, str]]:
    texts = []
    for file in dist.files or ():
        parts = file.parts
        in_metadata = parts[0].endswith(".dist-info")
        name = parts[-1]
        wanted = (in_metadata and ("licenses" in parts or LICENCE_FILE.match(name))) or (
            not in_metadata and len(parts) <= 2 and LICENCE_FILE.match(name)  # e.g. onnxruntime/ThirdPartyNotices.txt
        )
        if not wanted or name.endswith((".py", ".pyc")):
            continue
        path = Path(dist.locate_file(file))
        if path.is_file():
            texts.append(("/".join(parts), path.read_text(encoding="utf-8", errors="replace")))
    return texts


def _python_licence() -> str | None:
    base = Path(sys.base_prefix)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (
        base / "LICENSE.txt",
        base / "lib" / f"python{version}" / "LICENSE.txt",
        Path(f"/usr/lib/python{version}/LICENSE.txt"),
        Path(f"/usr/share/doc/python{version}/copyright"),
    ):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    return None


def write_notices(sources: list[str], folder: Path) -> list[Path]:
    """Write LICENSE and THIRD-PARTY-NOTICES.txt for a bundle made of these source files.

    sources are the paths PyInstaller collected (modules, binaries, data); each is traced to the
    installed distribution whose RECORD lists it. Returns the files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    licence = ROOT / "LICENSE"
    if licence.is_file():
        shutil.copyfile(licence, folder / "LICENSE")
        written.append(folder / "LICENSE")
    else:
        print("build.py: warning: no LICENSE at the repository root; the bundle has none", file=sys.stderr)

    index = _distribution_index()
    bundled = {}
    unowned = set()
    stdlib = os.path.normcase(os.path.abspath(sys.base_prefix))
    for source in sources:
        resolved = Path(source).resolve() if source and os.path.isabs(source) else None
        if resolved is None or (resolved.is_relative_to(BUILD) and not resolved.is_relative_to(VENV)):
            continue  # links inside the bundle, and what PyInstaller made itself (base_library.zip)
        key = os.path.normcase(os.path.abspath(source))
        dist = index.get(key) or index.get(os.path.normcase(os.path.realpath(source)))
        if dist is not None:
            bundled[_normalise(dist.metadata["Name"])] = dist
        elif not key.startswith(stdlib) and os.path.splitext(key)[1] not in (".py", ".pyc"):
            unowned.add(os.path.basename(source))
    names = sorted(name for name in bundled if name not in BUILD_ONLY and name != PROJECT)

    lines = [
        "Reading Assistant bundles the following third-party software. Each is listed with its version,",
        "its licence as its package metadata states it, and the licence and notice files it ships.",
        "",
        "Summary:",
    ]
    for name in names:
        meta = bundled[name].metadata
        lines.append(f"  {meta['Name']} {meta['Version']}: {_licence_summary(meta)}")
    lines.append(f"  Python {platform.python_version()}: PSF-2.0 (Python Software Foundation License)")
    if unowned:
        lines.append("  Libraries from the build system's own packages, bundled beside them:")
        lines += [f"    {name}" for name in sorted(unowned)]
    lines += [
        "  The launcher of the executables is PyInstaller's bootloader (GPL-2.0-or-later with an",
        "  exception that allows it to be distributed with programs under any licence).",
        "",
    ]
    for name in names:
        dist = bundled[name]
        meta = dist.metadata
        lines += ["=" * 100, f"{meta['Name']} {meta['Version']}", "=" * 100]
        lines.append(f"Licence: {_licence_summary(meta)}")
        for url in [meta.get("Home-page"), *(meta.get_all("Project-URL") or [])]:
            if url:
                lines.append(f"URL: {url}")
        for title, text in _licence_texts(dist):
            lines += ["", f"--- {title} ---", text.rstrip()]
        lines.append("")
    python_text = _python_licence()
    lines += ["=" * 100, f"Python {platform.python_version()}", "=" * 100]
    lines.append(
        python_text.rstrip() if python_text else "PSF License Agreement: https://docs.python.org/3/license.html"
    )
    (folder / "THIRD-PARTY-NOTICES.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(folder / "THIRD-PARTY-NOTICES.txt")
    return written


def _licence_summary(meta) -> str:
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) < 100:
        return text
    return ", ".join(classifiers) or "see the licence text below"


# --- After the build ----------------------------------------------------------------------------------


def app_version(python: Path) -> str:
    return python_says(python, "from importlib.metadata import version; print(version('reading-assistant'))")


def folder_size(folder: Path) -> tuple[int, list[tuple[int, Path]]]:
    files = [(path.stat().st_size, path) for path in folder.rglob("*") if path.is_file() and not path.is_symlink()]
    return sum(size for size, _ in files), sorted(files, reverse=True)


def linux_bundle():
    """packaging/linux/bundle.py, loaded from its file (packaging/ is no package)."""
    spec = importlib.util.spec_from_file_location("reading_assistant_linux_bundle", PACKAGING / "linux" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trim_linux(app: Path, python: Path) -> str:
    """Strip and trim the Linux bundle; returns the glibc it needs."""
    bundle = linux_bundle()
    try:
        log(f"ICU data trimmed: {bundle.trim_icu_data(app, python) / 1e6:.1f} MB saved")
        log(f"libraries stripped: {bundle.strip_binaries(app) / 1e6:.1f} MB saved")
        for search_path in bundle.drop_build_paths(app):
            log(f"library search path of the build machine taken out: {search_path}")
        floor = bundle.glibc_floor(app)
    except bundle.BundleError as error:
        raise SystemExit(f"build.py: error: {error}") from None
    log(f"the bundle needs glibc {floor} or newer")
    return floor


def part_sizes(app: Path) -> list[tuple[str, bool, int]]:
    """(part, optional, bytes) for each of PARTS with files, then everything else."""
    sizes = {name: 0 for name, _, _ in PARTS}
    rest = 0
    for path in app.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        inside = path.relative_to(app).as_posix()
        part = next((name for name, pattern, _ in PARTS if re.search(pattern, inside)), None)
        if part is None:
            rest += path.stat().st_size
        else:
            sizes[part] += path.stat().st_size
    optional = {name: extra for name, _, extra in PARTS}
    parts = [(name, optional[name], size) for name, size in sizes.items() if size]
    return [*parts, ("everything else (licences, metadata, charset detection)", False, rest)]


def report_parts(app: Path) -> None:
    parts = part_sizes(app)
    for name, optional, size in parts:
        print(f"  {size / 1e6:7.1f} MB  {name}{' (optional feature)' if optional else ''}")
    core = sum(size for _, optional, size in parts if not optional) / 1e6
    verdict = "within" if core <= CORE_BUDGET_MB else "OVER"
    log(f"without the optional features: {core:.1f} MB, {verdict} the {CORE_BUDGET_MB} MB budget")


def make_tarball(app: Path, version: str, glibc: str) -> Path:
    machine = platform.machine().lower() or "unknown"
    stem = f"{APP_NAME}-{version}-linux-{machine}"
    tarball = DIST / f"{stem}.tar.gz"
    linux = PACKAGING / "linux"
    icons = ROOT / "resources" / "icons"

    def mode(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    log(f"packing {tarball.relative_to(ROOT)}")
    with tarfile.open(tarball, "w:gz", compresslevel=6) as archive:
        archive.add(app, arcname=f"{stem}/{APP_NAME}", filter=mode)
        for script in ("install.sh", "uninstall.sh"):
            archive.add(linux / script, arcname=f"{stem}/{script}", filter=mode)
        archive.add(linux / f"{APP_NAME}.desktop", arcname=f"{stem}/{APP_NAME}.desktop", filter=mode)
        needs = f"{glibc}\n".encode("ascii")
        member = tarfile.TarInfo(f"{stem}/needs-glibc")
        member.size, member.mode, member.mtime = len(needs), 0o644, int(time.time())
        archive.addfile(member, io.BytesIO(needs))
        for icon in [*sorted(icons.glob(f"{APP_NAME}-*.png")), icons / f"{APP_NAME}.svg"]:
            archive.add(icon, arcname=f"{stem}/icons/{icon.name}", filter=mode)
    return tarball


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the frozen Reading Assistant into dist/.")
    parser.add_argument("--constraints", type=Path, default=CONSTRAINTS, help="pip constraints (default: %(default)s)")
    parser.add_argument("--fresh-venv", action="store_true", help="recreate build/venv first")
    parser.add_argument("--no-tarball", action="store_true", help="on Linux, skip the .tar.gz")
    arguments = parser.parse_args(argv)

    constraints = arguments.constraints.resolve()
    if not constraints.is_file():
        log(f"error: {constraints} is missing; write it with `python3 packaging/lock.py` first")
        return 2
    if sys.version_info[:2] != (3, 11):
        log(f"warning: constraints.txt was resolved for Python 3.11, this is {platform.python_version()}")
    started = time.monotonic()
    BUILD.mkdir(exist_ok=True)
    python = make_venv(arguments.fresh_venv)
    install(python, constraints)
    pyinstaller(python)

    app = DIST / APP_NAME
    if sys.platform != "darwin":  # beside the executables, where a reader looks first (the .app keeps its own)
        internal = app / "_internal"
        for path in sorted(NOTICES.glob("*")):
            if (internal / path.name).is_file():
                (internal / path.name).replace(app / path.name)
    version = app_version(python)
    linux = sys.platform.startswith("linux")
    glibc = trim_linux(app, python) if linux else None
    total, largest = folder_size(app)
    log(f"{app.relative_to(ROOT)}: {total / 1e6:.1f} MB in {len(largest)} files; the largest:")
    for size, path in largest[:15]:
        print(f"  {size / 1e6:7.1f} MB  {path.relative_to(app).as_posix()}")
    log("its parts:")
    report_parts(app)
    if linux and not arguments.no_tarball:
        tarball = make_tarball(app, version, glibc)
        log(f"{tarball.relative_to(ROOT)}: {tarball.stat().st_size / 1e6:.1f} MB")
    if sys.platform == "darwin":
        log(f"macOS bundle: {(DIST / 'Reading Assistant.app').relative_to(ROOT)}")
    log(f"reading-assistant {version} built in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
