"""The release tools: the version facts of packaging/release.py (the Windows installer's numeric
version among them) and the per-platform markers that packaging/lock.py writes into the lock.

packaging/ is not a package (and its name is PyPI's `packaging`), so both scripts load from their
files. The markers are checked by packaging's own marker evaluator, on each platform's environment.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version

from reading_assistant import __version__

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"reading_assistant_{name}_script", ROOT / "packaging" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


release = load_script("release")
lock = load_script("lock")

# PEP 440 versions with one to four release numbers that Windows can keep, and every kind of suffix.
release_numbers = st.lists(st.integers(0, release.WINDOWS_PART_MAX), min_size=1, max_size=4)
suffixes = st.sampled_from(["", "a1", "b2", "rc3", "-rc1", ".post1", ".dev0", "rc1.post2.dev3", "+local.7", "c1"])


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.2.0", "0.2.0.0"),
        ("1.2.3-rc1", "1.2.3.0"),
        ("v1.2.3rc1", "1.2.3.0"),
        ("1", "1.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("2026.12", "2026.12.0.0"),
        ("1!2.0.post3", "2.0.0.0"),
        ("1.2.3+ubuntu.7", "1.2.3.0"),
        ("01.002.0003", "1.2.3.0"),
        ("65535.0", "65535.0.0.0"),
    ],
)
def test_the_windows_version_is_the_release_numbers_padded_to_four(version, expected):
    assert release.windows_version(version) == expected


@pytest.mark.parametrize(
    "version",
    ["", "v", "next", "-1.0", "1.2.3.4.5", "65536.0", "1." + "9" * 5000, "\u0661.\u0662", ".1.2"],
)
def test_a_version_windows_cannot_keep_is_refused_with_a_reason(version):
    with pytest.raises(release.ReleaseError, match=r"version"):
        release.windows_version(version)


@given(release_numbers, suffixes)
def test_every_pep440_version_gives_its_release_numbers(numbers, suffix):
    version = ".".join(map(str, numbers)) + suffix
    parts = release.windows_version(version).split(".")
    assert len(parts) == 4
    assert [int(part) for part in parts] == [*Version(version).release, 0, 0, 0][:4]


@given(st.text(max_size=40))
def test_any_text_gives_four_numbers_or_a_release_error(text):
    try:
        parts = release.windows_version(text).split(".")
    except release.ReleaseError:
        return
    assert len(parts) == 4 and all(part.isascii() and 0 <= int(part) <= release.WINDOWS_PART_MAX for part in parts)


@given(release_numbers, suffixes)
def test_prereleases_are_those_pep440_calls_prereleases(numbers, suffix):
    version = ".".join(map(str, numbers)) + suffix
    assert release.is_prerelease(version) == Version(version).is_prerelease


def test_a_release_tag_must_name_the_version_exactly():
    release.check_tag("v1.2.3rc1", "1.2.3rc1")
    for tag in ("1.2.3rc1", "v1.2.3-rc1", "V1.2.3rc1", "v1.2.3"):
        with pytest.raises(release.ReleaseError, match=re.escape("tag the release v1.2.3rc1")):
            release.check_tag(tag, "1.2.3rc1")


CHANGELOG = """# Changelog

## [Unreleased]

- Something not released yet.

## [1.2.0] - 2026-12-01

### Added

- The thing of 1.2.0.

## [1.2.0.1] - 2026-12-02

- Not 1.2.0's.

## [1.1.0] - 2026-11-01

- The thing of 1.1.0.
"""


def test_the_release_notes_are_the_version_s_changelog_section():
    notes = release.release_notes("1.2.0", CHANGELOG)
    assert notes == "### Added\n\n- The thing of 1.2.0.\n"
    assert release.release_notes("1.1.0", CHANGELOG) == "- The thing of 1.1.0.\n"
    assert "no section for 1.3.0" in release.release_notes("1.3.0", CHANGELOG)


def test_the_command_prints_the_facts_for_github_output(tmp_path):
    notes = tmp_path / "notes.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "release.py"), "--tag", f"v{__version__}", "--notes", str(notes)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    facts = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert facts == {
        "version": __version__,
        "windows_version": release.windows_version(__version__),
        "prerelease": str(Version(__version__).is_prerelease).lower(),
    }
    assert notes.is_file()


def test_a_wrong_tag_fails_in_one_line():
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "release.py"), "--tag", "v0.0.0-not-this"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"v{__version__}" in result.stderr


# --- The lock's markers ---------------------------------------------------------------------------------

ENVIRONMENTS = {"linux": lock.LINUX} | {target.uv_name: target.environment for target in lock.PLATFORMS}


def holds_on(marker: str) -> set[str]:
    requirement = Requirement(f"anything==1 ; {marker}")
    return {name for name, environment in ENVIRONMENTS.items() if requirement.marker.evaluate(environment)}


def every_subset(items):
    return itertools.chain.from_iterable(itertools.combinations(items, size) for size in range(1, len(items) + 1))


@pytest.mark.parametrize("targets", list(every_subset(lock.PLATFORMS)), ids=str)
def test_a_marker_holds_on_its_platforms_and_its_negation_everywhere_else(targets):
    names = {target.uv_name for target in targets}
    assert holds_on(lock.marker_for(targets)) == names
    assert holds_on(lock.marker_excluding(targets)) == set(ENVIRONMENTS) - names


def applying_pins(lines: list[str], environment: dict[str, str]) -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            (specifier,) = requirement.specifier
            pins.setdefault(lock.requirement_name(requirement.name), []).append(specifier.version)
    return pins


def test_a_platform_that_cannot_install_a_pin_gets_its_own_and_no_other():
    windows, apple_silicon, intel_mac = lock.PLATFORMS
    frozen = ["numpy==2.4.6", "onnxruntime==1.32.0"]
    resolved = {
        windows: ({"numpy": "2.4.6", "onnxruntime-directml": "1.24.4"}, set()),
        apple_silicon: ({"numpy": "2.4.6", "onnxruntime": "1.32.0", "macholib": "1.16.4"}, set()),
        intel_mac: ({"numpy": "2.4.6", "onnxruntime": "1.23.2", "macholib": "1.16.4"}, {"onnxruntime"}),
    }
    lines = lock.lock_lines(frozen, resolved)
    expected = {
        "linux": {"numpy": ["2.4.6"], "onnxruntime": ["1.32.0"], "onnxruntime-gpu": ["1.31.1"]},
        windows.uv_name: {
            "numpy": ["2.4.6"],
            "onnxruntime": ["1.32.0"],
            "onnxruntime-directml": ["1.24.4"],
            "onnxruntime-gpu": ["1.31.1"],
        },
        apple_silicon.uv_name: {"numpy": ["2.4.6"], "onnxruntime": ["1.32.0"], "macholib": ["1.16.4"]},
        intel_mac.uv_name: {"numpy": ["2.4.6"], "onnxruntime": ["1.23.2"], "macholib": ["1.16.4"]},
    }
    assert {name: applying_pins(lines, environment) for name, environment in ENVIRONMENTS.items()} == expected
    assert 'macholib==1.16.4 ; sys_platform == "darwin"' in lines  # one line for both Macs
    assert lines[-1] == lock.GPU_VARIANT


def test_the_lock_pins_the_gpu_runtime_the_app_tells_readers_to_install():
    from reading_assistant.core.runtime_install import CUDA_RUNTIME

    lines = (ROOT / "constraints.txt").read_text().splitlines()
    assert lock.GPU_VARIANT in lines
    assert Requirement(lock.GPU_VARIANT).name + str(Requirement(lock.GPU_VARIANT).specifier) == CUDA_RUNTIME


def test_the_lock_pins_each_package_once_on_every_platform():
    lines = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line and not line.startswith("#")]
    for name, environment in ENVIRONMENTS.items():
        pins = applying_pins(lines, environment)
        assert {package: versions for package, versions in pins.items() if len(versions) > 1} == {}, name
        assert "onnxruntime" in pins or "onnxruntime-directml" in pins, name
