"""Make the Debian package from the frozen app that packaging/build.py made, with Debian's own tools:

    python3 packaging/build.py && python3 packaging/linux/make_deb.py

dist/reading-assistant_<version>_<arch>.deb (dpkg-deb) installs

    /usr/lib/reading-assistant/          the app folder, as build.py made it
    /usr/bin/reading-assistant           a link to its executable
    /usr/share/applications/reading-assistant.desktop   offered under "Open with", never the default
    /usr/share/icons/hicolor/*/apps/reading-assistant.{png,svg}
    /usr/share/metainfo/org.reading_assistant.ReadingAssistant.metainfo.xml   AppStream, this release
    /usr/share/doc/reading-assistant/copyright   the app's licence (the bundled software's: the app
                                                 folder's THIRD-PARTY-NOTICES.txt), and changelog.gz

Depends comes from dpkg-shlibdeps: the packages of the system libraries the bundle loads (the bundle
carries the rest), libc6 among them at no less than the glibc the bundle needs, so apt refuses an
older system by naming libc6 and that version, and brings whatever else is missing. The desktop and
icon caches are refreshed by the triggers of desktop-file-utils and hicolor-icon-theme. postrm
(deb/postrm) says on removal what stays in each user's home folder, since no package may reach into
it. appstreamcli validates the metadata and desktop-file-validate the entry before packing.

The maintainer is $DEBFULLNAME <$DEBEMAIL> when set (as Debian's tools take it). Standard library
only; needs dpkg-dev (dpkg-shlibdeps), appstream and desktop-file-utils.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DIST = ROOT / "dist"
STAGE = ROOT / "build" / "deb"
NAME = "reading-assistant"
APPSTREAM_ID = "org.reading_assistant.ReadingAssistant"
ICONS = ROOT / "resources" / "icons"
DEFAULT_MAINTAINER = "The Reading Assistant developers <maintainers@reading-assistant.invalid>"
# PEP 440's normalized form, as the installed distribution's folder names the version.
PEP440 = re.compile(
    r"(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)(?:(?P<pre>a|b|rc)(?P<pre_n>\d+))?"
    r"(?:\.post(?P<post>\d+))?(?:\.dev(?P<dev>\d+))?(?:\+(?P<local>[a-z0-9]+(?:\.[a-z0-9]+)*))?"
)
DESCRIPTION = """\
Description: ask questions about a document, answered offline
 Reading Assistant reads a document for you and answers questions about it:
 open a file, drop one on the window or paste text, type a question, and the
 answers are highlighted in the document with their confidences. It reads
 plain text, Markdown, HTML, PDF, Word and EPUB files, and scans by OCR, and
 keeps a library of folders to ask all at once. A quantized question-answering
 model runs on this computer: nothing leaves it.
 .
 This package holds the frozen app, with its own Python, Qt and models.
"""


class DebError(Exception):
    pass


def log(message: str) -> None:
    print(f"make_deb.py: {message}", flush=True)


def run(*command: str | Path, cwd: Path | None = None) -> str:
    try:
        result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise DebError(
            f"{command[0]} is not installed (apt-get install dpkg-dev appstream desktop-file-utils)"
        ) from None
    if result.returncode != 0:
        raise DebError(f"{Path(str(command[0])).name} failed: {(result.stderr or result.stdout).strip()[-1500:]}")
    return result.stdout


def debian_version(version: str) -> str:
    """The Debian form of a PEP 440 version, ordered as pip orders them: 1.2.dev1 < 1.2a1 < 1.2rc1 <
    1.2 < 1.2.post1 (a pre-release sorts first through "~", a development release before that)."""
    match = PEP440.fullmatch(version)
    if match is None:
        raise DebError(f"{version!r} is not a normalized PEP 440 version")
    text = (f"{match['epoch']}:" if match["epoch"] else "") + match["release"]
    if match["pre"]:
        text += f"~{match['pre']}{match['pre_n']}"
    if match["post"]:
        text += f"+post{match['post']}"
    if match["dev"]:
        text += f"~~dev{match['dev']}"
    if match["local"]:
        text += f"+{match['local']}"
    return text


def bundle_version(app: Path) -> str:
    """The app's version, from the distribution folder PyInstaller copied into the bundle."""
    found = [path.name for path in (app / "_internal").glob("reading_assistant-*.dist-info")]
    if len(found) != 1:
        raise DebError(f"{app} holds {len(found)} reading_assistant-*.dist-info folders, not one: build it again")
    return found[0].removeprefix("reading_assistant-").removesuffix(".dist-info")


def glibc_floor(app: Path) -> str:
    spec = importlib.util.spec_from_file_location("reading_assistant_linux_bundle", HERE / "bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    try:
        return bundle.glibc_floor(app)
    except bundle.BundleError as error:
        raise DebError(str(error)) from None


def copyright_file() -> str:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    holder = re.search(r"^Copyright (?:\(c\) )?(.+)$", licence, re.MULTILINE)
    if holder is None:
        raise DebError("LICENSE names no copyright holder")
    body = licence[holder.end() :].strip("\n")
    indented = "\n".join(f" {line}" if line.strip() else " ." for line in body.splitlines())
    return (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {NAME}\n"
        "Comment: The app bundles third-party software (Python, Qt, onnxruntime and more); each is\n"
        f" listed with its licence and notices in /usr/lib/{NAME}/THIRD-PARTY-NOTICES.txt.\n\n"
        f"Files: *\nCopyright: {holder.group(1).strip()}\nLicense: MIT\n{indented}\n"
    )


def maintainer() -> str:
    full_name, address = os.environ.get("DEBFULLNAME", "").strip(), os.environ.get("DEBEMAIL", "").strip()
    return f"{full_name or 'The Reading Assistant developers'} <{address}>" if address else DEFAULT_MAINTAINER


def changelog(version: str, upstream: str, moment: float) -> bytes:
    """The one entry a native package's changelog.gz needs (the changes are in CHANGELOG.md)."""
    text = (
        f"{NAME} ({version}) unstable; urgency=medium\n\n"
        f"  * Reading Assistant {upstream}, packaged from its frozen build; its changes\n"
        "    are in the project's CHANGELOG.md.\n\n"
        f" -- {maintainer()}  {email.utils.formatdate(moment).replace('-0000', '+0000')}\n"
    )
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=int(moment))


def metainfo(version: str, day: str) -> str:
    template = (HERE / f"{APPSTREAM_ID}.metainfo.xml").read_text(encoding="utf-8")
    filled, count = re.subn(
        r"<releases>\s*</releases>",
        f'<releases>\n    <release version="{version}" date="{day}"/>\n  </releases>',
        template,
    )
    if count != 1:
        raise DebError(f"{APPSTREAM_ID}.metainfo.xml has no empty <releases> element to fill")
    return filled


def normalise_modes(root: Path, executable: Path) -> None:
    """Folders 755, files 644, the launcher 755 (a shared library needs no executable bit)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() or path == executable else 0o644)


def stage(app: Path, version: str, upstream: str, moment: float) -> Path:
    """The package's files under build/deb/root, as they will lie on the system."""
    shutil.rmtree(STAGE, ignore_errors=True)
    root = STAGE / "root"
    lib = root / "usr" / "lib" / NAME
    shutil.copytree(app, lib, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / NAME).symlink_to(f"../lib/{NAME}/{NAME}")
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(HERE / f"{NAME}.desktop", share / "applications" / f"{NAME}.desktop")
    for png in sorted(ICONS.glob(f"{NAME}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copyfile(png, folder / f"{NAME}.png")
    (share / "icons" / "hicolor" / "scalable" / "apps").mkdir(parents=True)
    shutil.copyfile(ICONS / f"{NAME}.svg", share / "icons" / "hicolor" / "scalable" / "apps" / f"{NAME}.svg")
    (share / "metainfo").mkdir()
    day = time.strftime("%Y-%m-%d", time.gmtime(moment))
    (share / "metainfo" / f"{APPSTREAM_ID}.metainfo.xml").write_text(metainfo(upstream, day), encoding="utf-8")
    (share / "doc" / NAME).mkdir(parents=True)
    (share / "doc" / NAME / "copyright").write_text(copyright_file(), encoding="utf-8")
    (share / "doc" / NAME / "changelog.gz").write_bytes(changelog(version, upstream, moment))
    normalise_modes(root, lib / NAME)
    return root


def validate(root: Path) -> None:
    """The desktop entry, and the AppStream metadata with the entry it launches (validate-tree)."""
    run("desktop-file-validate", root / "usr" / "share" / "applications" / f"{NAME}.desktop")
    run("appstreamcli", "validate-tree", "--no-net", root)


def depends(root: Path, glibc: str) -> str:
    """The Depends field: dpkg-shlibdeps on every ELF file of the app, libc6 raised to the glibc floor."""
    lib = root / "usr" / "lib" / NAME
    elves = []
    for path in sorted(lib.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if file.read(4) == b"\x7fELF":
                    elves.append(path)
    # dpkg-shlibdeps reads the package's name from debian/control; the bundle's own libraries are
    # found through -l and belong to no package (--ignore-missing-info).
    (STAGE / "debian").mkdir()
    (STAGE / "debian" / "control").write_text(
        f"Source: {NAME}\n\nPackage: {NAME}\nArchitecture: any\n", encoding="utf-8"
    )
    folders = sorted({str(path.parent) for path in elves})
    output = run(
        "dpkg-shlibdeps", "-O", "--ignore-missing-info", "--warnings=0",
        *(f"-l{folder}" for folder in folders), *(f"-e{path}" for path in elves),
        cwd=STAGE,
    )  # fmt: skip
    match = re.search(r"^shlibs:Depends=(.*)$", output, re.MULTILINE)
    packages = [item.strip() for item in match.group(1).split(",")] if match else []
    packages = [item for item in packages if not re.match(r"libc6\b", item)]
    return ", ".join([f"libc6 (>= {glibc})", *packages])


def control(version: str, architecture: str, installed_kib: int, depends_on: str) -> str:
    return (
        f"Package: {NAME}\nVersion: {version}\nArchitecture: {architecture}\nMaintainer: {maintainer()}\n"
        f"Installed-Size: {installed_kib}\nDepends: {depends_on}\nSection: text\nPriority: optional\n" + DESCRIPTION
    )


def make_deb(app: Path, compression: str) -> Path:
    if not app.is_dir() or not (app / NAME).is_file():
        raise DebError(f"no frozen app in {app}: build it first with python3 packaging/build.py")
    upstream = bundle_version(app)
    version = debian_version(upstream)
    architecture = run("dpkg", "--print-architecture").strip()
    # A reproducible build dates the release by SOURCE_DATE_EPOCH, as Debian's tools do.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch and not epoch.isdigit():
        raise DebError(f"SOURCE_DATE_EPOCH is {epoch!r}, not a number of seconds")
    moment = float(epoch or time.time())
    glibc = glibc_floor(app)
    root = stage(app, version, upstream, moment)
    validate(root)
    depends_on = depends(root, glibc)
    installed_kib = sum(-(-path.lstat().st_size // 1024) for path in root.rglob("*") if not path.is_dir())
    debian = root / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(control(version, architecture, installed_kib, depends_on), encoding="utf-8")
    shutil.copyfile(HERE / "deb" / "postrm", debian / "postrm")
    (debian / "postrm").chmod(0o755)
    package = DIST / f"{NAME}_{version}_{architecture}.deb"
    log(f"Depends: {depends_on}")
    run("dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", root, package)
    shutil.rmtree(STAGE, ignore_errors=True)
    return package


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make the .deb of the frozen Reading Assistant in dist/.")
    parser.add_argument("--app", type=Path, default=DIST / NAME, help="the frozen app folder (default: %(default)s)")
    # Debian's package format admits xz and gzip (lintian calls zstd malformed); gzip is the faster.
    parser.add_argument("--compression", choices=("xz", "gzip"), default="xz", help="default: %(default)s")
    arguments = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        log("error: a .deb is made on Linux")
        return 2
    started = time.monotonic()
    try:
        package = make_deb(arguments.app.resolve(), arguments.compression)
    except (DebError, OSError) as error:
        log(f"error: {error}")
        return 1
    size = package.stat().st_size / 1e6
    log(f"{package.relative_to(ROOT)}: {size:.1f} MB, made in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
