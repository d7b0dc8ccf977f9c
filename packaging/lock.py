"""Write constraints.txt: the exact versions the suite ran on, for CI, the frozen app and installers.

    python3 packaging/lock.py                   # everything afresh
    python3 packaging/lock.py --platforms-only  # keep the Linux pins, resolve the other platforms again

It resolves the project's dependencies afresh (the newest releases that pyproject.toml admits) in a
throwaway environment on this machine (Linux, this Python): those are the pins without a marker.
Then uv resolves, against those pins, what each other platform the app ships on installs (Windows,
macOS on Apple silicon and on Intel): a package only some platforms install gets a line with their
marker. Where a pinned release cannot be installed on a platform (no wheel for it: onnxruntime
stopped at 1.23.2 for Intel Macs), that platform gets its own pin, the newest release it can install,
and the Linux pin a marker that leaves the platform out. A new lock comes in only after `bash
.ci/run` and a long session in the window passed on it: the lock is what every reader installs.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tomllib

try:
    from packaging.requirements import Requirement
    from packaging.version import Version
except ImportError:  # a bare Python: pip carries its own copy
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
TORCH = "torch==2.13.0"  # the CPU build the README's test command installs
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
BUILD_TOOLS = ["pyinstaller"]
# onnxruntime's macOS wheels need macOS 14 (Sonoma) or newer; uv assumes 13 unless told.
MACOS_TARGET = "14.0"
LINUX = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": platform.machine()}
# The GPU variant, which a reader gets by swapping the runtime (the README's "On a GPU"): nothing
# installs it, so no resolution finds it; it is pinned where NVIDIA's CUDA runs, to the release
# tested (``runtime_install.CUDA_RUNTIME`` names the same).
GPU_VARIANT = 'onnxruntime-gpu==1.31.1 ; sys_platform == "linux" or sys_platform == "win32"'


@dataclass(frozen=True)
class Platform:
    """Another platform the app ships on, as uv and environment markers name it."""

    uv_name: str
    sys_platform: str
    system: str  # platform_system there
    machine: str  # platform_machine there
    test_suite: bool  # whether the lock carries the dev extra (the test suite) for it

    @property
    def environment(self) -> dict[str, str]:
        return {"sys_platform": self.sys_platform, "platform_system": self.system, "platform_machine": self.machine}


PLATFORMS = (
    Platform("x86_64-pc-windows-msvc", "win32", "Windows", "AMD64", test_suite=True),
    Platform("aarch64-apple-darwin", "darwin", "Darwin", "arm64", test_suite=True),
    # torch's last Intel-Mac wheel is 2.2.2, built for NumPy 1, so the test suite cannot run on this
    # lock there: Intel Macs get the app (`pip install -c constraints.txt .`) and PyInstaller only.
    Platform("x86_64-apple-darwin", "darwin", "Darwin", "x86_64", test_suite=False),
)


class ResolutionFailed(Exception):
    pass


def run(*command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"lock: {' '.join(command[:4])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def requirement_name(line: str) -> str:
    return re.split(r"[<>=!~;\s\[]", line.strip(), maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def pinned_version(pin: str) -> str:
    return pin.split("==", 1)[1].strip()


def project_requirements(environment: dict[str, str], with_dev: bool) -> list[str]:
    """pyproject's runtime dependencies (and the dev extra) that this platform installs, without markers."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = project["dependencies"] + (project["optional-dependencies"]["dev"] if with_dev else [])
    chosen = []
    for text in texts:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            requirement.marker = None
            chosen.append(str(requirement))
    return chosen


def uv_compile(target: Platform, requirements: list[str], pins: dict[str, str], work: Path, uv: str) -> dict[str, str]:
    """What ``target`` installs for these requirements, pinned to ``pins`` wherever one applies.

    uv evaluates dependency markers and wheel tags for the target platform (pip's --platform does
    not), so PyInstaller's pefile or macholib and onnxruntime-directml's own needs come out right.
    """
    wanted = work / f"{target.uv_name}.in"
    wanted.write_text("\n".join(pins.get(requirement_name(r), r) for r in requirements) + "\n")
    constraints = work / f"{target.uv_name}-pins.txt"
    constraints.write_text("\n".join(pins.values()) + "\n")
    result = subprocess.run(
        [uv, "pip", "compile", str(wanted), "-c", str(constraints), "--python-platform", target.uv_name,
         "--python-version", PYTHON_VERSION, "--no-header", "--no-annotate", "--quiet"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "MACOSX_DEPLOYMENT_TARGET": MACOS_TARGET},
    )  # fmt: skip
    if result.returncode != 0:
        raise ResolutionFailed(result.stderr.strip()[-3000:])
    lines = [line.strip() for line in result.stdout.splitlines() if "==" in line]
    return {requirement_name(line): line.split("==", 1)[1].strip() for line in lines}


def resolve_platform(target: Platform, pins: dict[str, str], work: Path, uv: str) -> tuple[dict[str, str], set[str]]:
    """(what ``target`` installs, the pinned packages it gets its own release of)."""
    requirements = project_requirements(target.environment, target.test_suite) + BUILD_TOOLS
    try:
        return uv_compile(target, requirements, pins, work, uv), set()
    except ResolutionFailed as failure:
        pinned_failure = failure
    # Suspects: the pins newer than anything the platform resolves to on its own. A suspect has
    # stopped there when its pinned release cannot be installed there even alone.
    newest = uv_compile(target, requirements, {}, work, uv)
    suspects = [name for name in pins if name in newest and Version(newest[name]) < Version(pinned_version(pins[name]))]
    stopped = set()
    for name in suspects:
        try:
            uv_compile(target, [pins[name]], {}, work, uv)
        except ResolutionFailed:
            stopped.add(name)
    if not stopped:
        sys.exit(f"lock: the pins do not resolve for {target.uv_name}:\n{pinned_failure}")
    kept = {name: pin for name, pin in pins.items() if name not in stopped}
    try:
        return uv_compile(target, requirements, kept, work, uv), stopped
    except ResolutionFailed as failure:
        sys.exit(f"lock: {target.uv_name} does not resolve without the pins of {sorted(stopped)}:\n{failure}")


def marker_for(targets: Iterable[Platform]) -> str:
    """The marker that holds on exactly these platforms (among PLATFORMS): a whole sys_platform where
    every platform of it is there, else each platform's own machine."""
    terms = _terms(targets, negated=False)
    return " or ".join(f"({term})" if " and " in term and len(terms) > 1 else term for term in terms)


def marker_excluding(targets: Iterable[Platform]) -> str:
    """The marker that holds everywhere but on these platforms."""
    terms = _terms(targets, negated=True)
    return " and ".join(f"({term})" if " or " in term and len(terms) > 1 else term for term in terms)


def _terms(targets: Iterable[Platform], negated: bool) -> list[str]:
    chosen = set(targets)
    equals, joiner = ("!=", " or ") if negated else ("==", " and ")
    terms = []
    for sys_platform in dict.fromkeys(target.sys_platform for target in PLATFORMS if target in chosen):
        family = [target for target in PLATFORMS if target.sys_platform == sys_platform]
        if all(target in chosen for target in family):
            terms.append(f'sys_platform {equals} "{sys_platform}"')
        else:
            terms += [
                f'sys_platform {equals} "{sys_platform}"{joiner}platform_machine {equals} "{target.machine}"'
                for target in family
                if target in chosen
            ]
    return terms


def lock_lines(frozen: list[str], resolved: dict[Platform, tuple[dict[str, str], set[str]]]) -> list[str]:
    """The pins (each with a marker leaving out the platforms that stopped short of it), then the
    lines that hold on some platforms only."""
    pins = {requirement_name(line): line for line in frozen}
    stopped_on = {name: [t for t, (_, stopped) in resolved.items() if name in stopped] for name in pins}
    lines = [f"{line} ; {marker_excluding(stopped_on[n])}" if stopped_on[n] else line for n, line in pins.items()]
    only_some: dict[tuple[str, str], list[Platform]] = {}
    for target, (versions, stopped) in resolved.items():
        for name, version in versions.items():
            if name not in pins or name in stopped:
                only_some.setdefault((name, version), []).append(target)
    order = {target: index for index, target in enumerate(PLATFORMS)}
    extra = sorted(only_some.items(), key=lambda item: (min(order[t] for t in item[1]), marker_for(item[1]), item[0]))
    return [*lines, *(f"{name}=={version} ; {marker_for(targets)}" for (name, version), targets in extra), GPU_VARIANT]


def fresh_linux_pins(work: Path) -> list[str]:
    """Everything the project and its dev extra install here, at the newest releases admitted."""
    venv.create(work / "venv", with_pip=True)
    python = str(work / "venv" / "bin" / "python")
    run(python, "-m", "pip", "install", "--quiet", TORCH, "-e", f"{ROOT}[dev]", *BUILD_TOOLS)
    freeze = run(python, "-m", "pip", "freeze", "--all", "--exclude-editable").splitlines()
    # A local label (torch's "+cpu") names a build, not a release: "==2.13.0" still selects it.
    return sorted(
        (line.split("+")[0] for line in freeze if "==" in line and requirement_name(line) != "pip"), key=str.lower
    )


def current_linux_pins() -> list[str]:
    """The pins of constraints.txt that hold on Linux, without their markers."""
    if not LOCK.is_file():
        sys.exit(f"lock: {LOCK} is missing; run `python3 packaging/lock.py` without --platforms-only first")
    pins = []
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(LINUX):
                pins.append(line.split(";")[0].strip())
    return pins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write constraints.txt for every platform the app ships on.")
    parser.add_argument(
        "--platforms-only",
        action="store_true",
        help="keep the Linux pins of constraints.txt and resolve only the other platforms' lines again",
    )
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reading-assistant-lock-") as folder:
        work = Path(folder)
        frozen = current_linux_pins() if arguments.platforms_only else fresh_linux_pins(work)
        run(sys.executable, "-m", "pip", "install", "--quiet", "--target", str(work / "uv"), "uv")
        uv = str(work / "uv" / "bin" / "uv")
        pins = {requirement_name(line): line for line in frozen}
        resolved = {target: resolve_platform(target, pins, work, uv) for target in PLATFORMS}
    header = [
        "# The exact versions CI tested: CI, packaging/build.py and the installers install with",
        "#   pip install -c constraints.txt ...",
        f"# Written by `python3 packaging/lock.py` on Linux with Python {PYTHON_VERSION}. A line with a marker holds",
        "# on those platforms only: a package only they install, or their own release of a package whose",
        "# pinned release they cannot install (the pin's marker then leaves them out).",
        "# Refresh only after `bash .ci/run` and a long session in the window pass on the new versions.",
    ]
    lines = lock_lines(frozen, resolved)
    LOCK.write_text("\n".join([*header, *lines]) + "\n")
    own = sum(len(stopped) for _, stopped in resolved.values())
    print(f"wrote {LOCK} ({len(frozen)} pins, {len(lines) - len(frozen)} lines for some platforms, {own} stopped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
