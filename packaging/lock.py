"""Write constraints.txt: the exact versions the suite ran on, for CI, the frozen app and installers.

    python3 packaging/lock.py

It resolves the project's dependencies afresh (the newest releases that pyproject.toml admits) in a
throwaway environment on this machine (Linux, this Python), adds the packages that only Windows or
macOS install (onnxruntime-directml, PyInstaller's helpers) as uv resolves them for those platforms, and
writes constraints.txt. A new lock comes in only after `bash .ci/run` and a long session in the
window passed on it: the lock is what every reader installs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
TORCH = "torch==2.13.0"  # the CPU build the README's test command installs
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
BUILD_TOOLS = ["pyinstaller"]
# Other platforms the app ships on: (uv's platform name, the marker that selects it, values for markers).
PLATFORMS = [
    ("x86_64-pc-windows-msvc", 'sys_platform == "win32"', {"sys_platform": "win32", "platform_system": "Windows"}),
    ("aarch64-apple-darwin", 'sys_platform == "darwin"', {"sys_platform": "darwin", "platform_system": "Darwin"}),
]
# onnxruntime's macOS wheels need macOS 14 (Sonoma) or newer; uv assumes 13 unless told.
MACOS_TARGET = "14.0"


def run(*command: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        sys.exit(f"lock: {' '.join(command[:4])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def requirement_name(line: str) -> str:
    return line.split("==")[0].strip().lower().replace("_", "-")


def runtime_requirements(environment: dict[str, str]) -> list[str]:
    """pyproject's runtime dependencies whose markers select this platform, without the markers."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # a bare Python: pip carries its own copy
        from pip._vendor.packaging.requirements import Requirement

    chosen = []
    for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            requirement.marker = None
            chosen.append(str(requirement))
    return chosen


def resolve_for(platform: str, requirements: list[str], pins: dict[str, str], work: Path, uv: str) -> dict[str, str]:
    """What another platform installs, pinned to our versions wherever we have one.

    uv evaluates dependency markers for the target platform (pip's --platform does not), so
    PyInstaller's pefile or macholib and onnxruntime-directml's own needs come out right.
    """
    pinned = [pins.get(requirement_name(re.split(r"[<>=!~; \\[]", r)[0]), r) for r in requirements]
    wanted = work / f"{platform}.in"
    wanted.write_text("\n".join(pinned) + "\n")
    constraints = work / "linux-pins.txt"
    constraints.write_text("\n".join(pins.values()) + "\n")
    resolved = run(
        uv, "pip", "compile", str(wanted), "-c", str(constraints), "--python-platform", platform,
        "--python-version", PYTHON_VERSION, "--no-header", "--no-annotate", "--quiet",
        env={**os.environ, "MACOSX_DEPLOYMENT_TARGET": MACOS_TARGET},
    )  # fmt: skip
    lines = [line.strip() for line in resolved.splitlines() if "==" in line]
    return {requirement_name(line): line.split("==")[1] for line in lines}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="reading-assistant-lock-") as folder:
        work = Path(folder)
        venv.create(work / "venv", with_pip=True)
        python = str(work / "venv" / "bin" / "python")
        run(python, "-m", "pip", "install", "--quiet", TORCH, "-e", f"{ROOT}[dev]", *BUILD_TOOLS)
        uv_folder = work / "uv"
        run(python, "-m", "pip", "install", "--quiet", "--target", str(uv_folder), "uv")
        uv = str(uv_folder / "bin" / "uv")
        freeze = run(python, "-m", "pip", "freeze", "--all", "--exclude-editable").splitlines()
        # A local label (torch's "+cpu") names a build, not a release: "==2.13.0" still selects it.
        frozen = sorted(
            (line.split("+")[0] for line in freeze if "==" in line and requirement_name(line) != "pip"), key=str.lower
        )
        pins = {requirement_name(line): line for line in frozen}
        extra_lines = []
        for platform, marker, environment in PLATFORMS:
            resolved = resolve_for(platform, runtime_requirements(environment) + BUILD_TOOLS, pins, work, uv)
            for name, version in sorted(resolved.items()):
                if name not in pins:
                    extra_lines.append(f"{name}=={version} ; {marker}")
    header = [
        "# The exact versions CI tested: CI, packaging/build.py and the installers install with",
        "#   pip install -c constraints.txt ...",
        "# Written by `python3 packaging/lock.py` on Linux with Python "
        f"{PYTHON_VERSION}; the lines with a marker were resolved for that platform.",
        "# Refresh only after `bash .ci/run` and a long session in the window pass on the new versions.",
    ]
    LOCK.write_text("\n".join([*header, *frozen, *extra_lines]) + "\n")
    print(f"wrote {LOCK} ({len(frozen)} packages, {len(extra_lines)} for other platforms only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
