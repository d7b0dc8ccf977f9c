"""The sdist a packager downloads: built from this checkout with `python -m build`, as a packager
would, which then builds the wheel from that sdist alone. The sdist carries the lock, the tests with
their helpers, the packaging scripts and the README's pictures; the wheel built from it holds every
module and data file of the package, and the licence in PEP 639's form.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from reading_assistant import __version__

ROOT = Path(__file__).resolve().parents[1]
# What [tool.setuptools] maps into the installed package: the code, the bundled models, the icons.
PACKAGE_SOURCES = {
    "app": "reading_assistant",
    "models": "reading_assistant/models",
    "resources": "reading_assistant/resources",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (sdist,) = out.glob("reading_assistant-*.tar.gz")
    (wheel,) = out.glob("reading_assistant-*.whl")
    return sdist, wheel


def source_files(folder: Path) -> set[str]:
    """The files under a folder of the checkout, as paths relative to the checkout."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_sdist_carries_the_lock_tests_packaging_and_pictures(built):
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    pictures = set(re.findall(r"\]\(((?:docs|resources)/[^)\s]+)\)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert pictures, "the README shows no pictures from docs/"
    wanted = {"constraints.txt", "LICENSE", "README.md", "pyproject.toml", "MANIFEST.in"} | pictures
    wanted |= source_files(ROOT / "packaging") | source_files(ROOT / "tests") | source_files(ROOT / "docs")
    assert wanted - names == set()


def test_the_wheel_built_from_the_sdist_holds_the_whole_package(built):
    _, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"reading_assistant-{__version__}.dist-info/"
    expected = set()
    for source, installed in PACKAGE_SOURCES.items():
        for name in source_files(ROOT / source):
            expected.add(installed + name.removeprefix(source))
    assert expected - names == set()
    assert {name for name in names if not name.startswith(dist_info)} == expected
    metadata = zipfile.ZipFile(wheel).read(dist_info + "METADATA").decode()
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert dist_info + "licenses/LICENSE" in names
