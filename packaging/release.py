"""The version facts a release needs, for .github/workflows/package.yml. Standard library only.

    python3 packaging/release.py                      # version, windows_version, prerelease
    python3 packaging/release.py --tag v1.2.3rc1      # the same, once the tag is checked against the app
    python3 packaging/release.py --notes notes.md     # the release notes: CHANGELOG.md's section

The version is app/__init__.py's; a release tag must be "v" followed by exactly that version. The
facts print as key=value lines, the form $GITHUB_OUTPUT takes. Exits 0, or 1 with one line on
standard error saying what is wrong.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = ROOT / "app" / "__init__.py"
CHANGELOG = ROOT / "CHANGELOG.md"
# Windows keeps a file's version as four numbers of 16 bits each (VERSIONINFO's FILEVERSION).
WINDOWS_PARTS = 4
WINDOWS_PART_MAX = 65535
# The release numbers at the start of a version or tag ("v", an epoch "1!" and then 1.2.3), and the rest.
_RELEASE = re.compile(r"[vV]?(?:[0-9]+!)?(?P<release>[0-9]+(?:\.[0-9]+)*)(?P<rest>.*)", re.DOTALL)
# A pre-release or development part (PEP 440, and SemVer's "-rc.1"), anywhere before a local label.
_PRERELEASE = re.compile(r"(?:^|[-_.0-9])(?:a|b|c|rc|alpha|beta|pre|preview|dev)(?=[-_.0-9]|$)", re.IGNORECASE)


class ReleaseError(Exception):
    pass


def app_version(version_file: Path = VERSION_FILE) -> str:
    """The app's version, read from its source without importing it."""
    match = re.search(r'^__version__ = "([^"\n]+)"', version_file.read_text(encoding="utf-8"), re.MULTILINE)
    if not match:
        raise ReleaseError(f'no __version__ = "..." line in {version_file}')
    return match.group(1)


def windows_version(version: str) -> str:
    """Four numbers for Inno Setup's VersionInfoVersion: the release numbers, padded with zeros.

    A pre-release, post-release, development or local part has no place there (1.2.3-rc1 gives
    1.2.3.0); the installer's name and its text version keep the whole version.
    """
    match = _RELEASE.fullmatch(version.strip())
    if not match:
        raise ReleaseError(f"the version {version!r} does not begin with numbers such as 1.2.3")
    parts = match["release"].split(".")
    if len(parts) > WINDOWS_PARTS:
        raise ReleaseError(f"the version {version!r} has more than {WINDOWS_PARTS} numbers; Windows keeps four")
    # Compared as text first: a number thousands of digits long is refused without converting it.
    if any(len(part.lstrip("0")) > len(str(WINDOWS_PART_MAX)) or int(part) > WINDOWS_PART_MAX for part in parts):
        raise ReleaseError(f"the version {version!r} has a number over {WINDOWS_PART_MAX}, which Windows cannot keep")
    numbers = [str(int(part)) for part in parts] + ["0"] * (WINDOWS_PARTS - len(parts))
    return ".".join(numbers)


def is_prerelease(version: str) -> bool:
    """Whether the version is a pre-release or development release (1.2.3rc1, 1.2.3-beta.2, 1.2.3.dev0)."""
    match = _RELEASE.fullmatch(version.strip())
    rest = match["rest"].split("+", 1)[0] if match else version
    return _PRERELEASE.search(rest) is not None


def check_tag(tag: str, version: str) -> None:
    """A release tag names the app's version exactly, so the files carry the version they were built as."""
    if tag != f"v{version}":
        raise ReleaseError(
            f"the tag {tag!r} does not name the app's version {version!r} (app/__init__.py); tag the release v{version}"
        )


def release_notes(version: str, changelog: str) -> str:
    """The CHANGELOG.md section of this version ("## [1.2.3] - date" up to the next "## "), or a
    pointer to the file when it has none."""
    heading = re.compile(rf"^## \[?{re.escape(version)}\]?(?=[\s-]|$).*$", re.MULTILINE)
    start = heading.search(changelog)
    if start is None:
        return f"CHANGELOG.md has no section for {version} yet.\n"
    following = re.compile(r"^## ", re.MULTILINE).search(changelog, start.end())
    section = changelog[start.end() : following.start() if following else len(changelog)]
    return section.strip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the version facts a release needs, as key=value lines.")
    parser.add_argument("--tag", help="the release tag, checked to be v<version>")
    parser.add_argument("--notes", type=Path, help="write the release notes (CHANGELOG.md's section) to this file")
    arguments = parser.parse_args(argv)
    try:
        version = app_version()
        if arguments.tag is not None:
            check_tag(arguments.tag, version)
        facts = {
            "version": version,
            "windows_version": windows_version(version),
            "prerelease": "true" if is_prerelease(version) else "false",
        }
        if arguments.notes is not None:
            changelog = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.is_file() else ""
            arguments.notes.write_text(release_notes(version, changelog), encoding="utf-8")
    except (ReleaseError, OSError) as error:
        print(f"release.py: {error}", file=sys.stderr)
        return 1
    for key, value in facts.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
