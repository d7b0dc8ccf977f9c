"""Which onnxruntime is installed, and the one command that brings this platform's GPU.

onnxruntime comes as one distribution per kind of hardware, each installing the same
``onnxruntime`` package: ``onnxruntime`` (the CPU, and CoreML on Apple-silicon Macs),
``onnxruntime-gpu`` (NVIDIA's CUDA, Linux and Windows) and ``onnxruntime-directml`` (any DirectX 12
GPU, Windows). The app depends on ``onnxruntime`` (``onnxruntime-directml`` on Windows); a GPU is
brought by swapping it for ``onnxruntime-gpu`` in one command, never by installing both: two of
them overwrite each other's files, and removing one then breaks the other.
"""

from __future__ import annotations

import shlex
import sys
from importlib.metadata import PackageNotFoundError, version

RUNTIMES = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml")
# The release of onnxruntime-gpu the app was tested with (constraints.txt pins the same); it
# needs an NVIDIA driver for CUDA 13, with CUDA 13 and cuDNN 9 on the library path.
CUDA_RUNTIME = "onnxruntime-gpu==1.31.1"
DIRECTML_RUNTIME = "onnxruntime-directml"


# What each GPU provider needs beyond its onnxruntime, for the reader whose GPU could not start.
NEEDS = {
    "CUDAExecutionProvider": "CUDA needs an NVIDIA driver for CUDA 13, and CUDA 13 and cuDNN 9 on the library path",
    "DmlExecutionProvider": "DirectML needs a DirectX 12 GPU and its driver",
}


def installed_runtimes() -> dict[str, str]:
    """The onnxruntime distributions installed, with their versions (none in a frozen app, which
    carries no package metadata)."""
    found = {}
    for name in RUNTIMES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _python() -> str:
    executable = sys.executable or "python"
    if sys.platform == "win32":
        return f'"{executable}"' if " " in executable else executable
    return shlex.quote(executable)


def swap_command(runtime: str = CUDA_RUNTIME) -> str:
    """The command that leaves ``runtime`` (a requirement: a name, perhaps pinned) this Python's only onnxruntime."""
    keep = runtime.partition("==")[0]
    python = _python()
    others = " ".join(name for name in RUNTIMES if name != keep)
    return f"{python} -m pip uninstall -y {others} && {python} -m pip install {runtime}"


def no_gpu_message() -> str:
    """One line for ``--device gpu`` where this onnxruntime has no GPU provider: what to install."""
    if getattr(sys, "frozen", False):
        return "this build's onnxruntime has no GPU provider; using the CPU"
    if sys.platform == "darwin":
        return "this onnxruntime has no GPU provider (CoreML comes with it on Apple-silicon Macs only); using the CPU"
    if sys.platform == "win32":
        return (
            f"no GPU runtime is installed: for any DirectX 12 GPU run {swap_command(DIRECTML_RUNTIME)}, "
            f"for NVIDIA's CUDA {swap_command()}; using the CPU"
        )
    return (
        "no GPU runtime is installed: for an NVIDIA GPU (CUDA 13 and cuDNN 9 installed) run "
        f"{swap_command()}; using the CPU"
    )


def runtime_conflict() -> str:
    """What to do when more than one onnxruntime is installed (empty when one is): keep the GPU's."""
    found = installed_runtimes()
    if len(found) < 2:
        return ""
    listed = ", ".join(f"{name} {number}" for name, number in found.items())
    if "onnxruntime-gpu" in found:
        keep = CUDA_RUNTIME
    else:
        keep = DIRECTML_RUNTIME if DIRECTML_RUNTIME in found else "onnxruntime"
    return (
        f"{len(found)} onnxruntime packages are installed ({listed}), which overwrite each other: run "
        + swap_command(keep)
    )
