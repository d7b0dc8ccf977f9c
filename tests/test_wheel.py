"""The wheel a reader installs: one package of the project's own name, with its model and icons inside.

The wheel is built from this checkout as pip builds it (isolated build, setuptools from PyPI) and
unpacked with ``pip install --target``, then run from another folder, so nothing can come from the
repository's layout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reading_assistant import __version__

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("reading_assistant-*.whl")
    return built


def test_the_wheel_holds_one_package_with_the_model_and_icons(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"reading_assistant", f"reading_assistant-{__version__}.dist-info"}
    model = "reading_assistant/models/minilm-squad-int8/"
    for needed in ("model.onnx", "tokenizer.json", "reading_assistant.json", "config.json", "README.md"):
        assert model + needed in names
    assert "reading_assistant/resources/icons/reading-assistant.svg" in names
    assert not any(name.startswith("reading_assistant/training/") and name.endswith(".onnx") for name in names)
    dist_info = f"reading_assistant-{__version__}.dist-info/"
    entry_points = zipfile.ZipFile(wheel).read(dist_info + "entry_points.txt").decode()
    assert "[console_scripts]\nreading-assistant = reading_assistant.cli:main" in entry_points
    assert "[gui_scripts]\nreading-assistant-gui = reading_assistant.cli:gui_main" in entry_points
    metadata = zipfile.ZipFile(wheel).read(dist_info + "METADATA").decode()
    assert f"Version: {__version__}" in metadata
    assert any(name.startswith(dist_info) and "LICENSE" in name for name in names)


def test_the_installed_wheel_answers_with_its_bundled_model(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    document = tmp_path / "curie.txt"
    document.write_text("Marie Curie was born in Warsaw in 1867. She moved to Paris in 1891.", encoding="utf-8")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    where = subprocess.run(
        [sys.executable, "-c", "import reading_assistant.core.paths as p; print(p.bundled_model_dir())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", str(document), "Where was Marie Curie born?", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["model"] == "minilm-squad-int8"
    assert "Warsaw" in answer["answers"][0]["text"]
    version = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "--version"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert version.stdout.strip() == f"reading-assistant {__version__}"
