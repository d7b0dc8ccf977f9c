"""How much memory this machine can spare for a model call: a read is bounded by it, not by what a
model folder or a caller asks (``ModelShape.call_bytes`` says what a call needs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .model_shape import ModelShape

# One model call may take at most this share of the memory free when it starts: the document, its
# windows, the window's own memory and the other programs on the machine need the rest.
CALL_SHARE = 0.5
# A call that needs less than this is never worth asking the system about.
SMALL_CALL_BYTES = 256 * 2**20
# Batches are cut to this whatever the memory free: on a CPU, calls bigger than this are no faster
# per window (a single window that needs more may still take up to ``CALL_SHARE`` of what is free).
MAX_BATCH_BYTES = 2**30
# (limit, in use, statistics) files of the control group (v2, then v1) a Linux process may be
# confined to, as in a container; the statistics say how much of the use is cache it gives back.
CGROUP_FILES = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory.stat"),
    (
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        "/sys/fs/cgroup/memory/memory.stat",
    ),
)


def available_memory() -> int | None:
    """Bytes this process could allocate now without swapping, or None where the system does not say."""
    if sys.platform == "win32":
        return _windows_available()
    free = _meminfo_available()
    if free is None:
        free = _sysconf_available()
    confined = _cgroup_available()
    if confined is not None:
        free = confined if free is None else min(free, confined)
    return free


def windows_that_fit(shape: ModelShape, seq_len: int, wanted: int) -> int:
    """How many of ``wanted`` windows of ``seq_len`` tokens one call can read in the memory free now
    (0: not even one)."""
    need = shape.call_bytes(1, seq_len)
    if need * wanted <= SMALL_CALL_BYTES:
        return wanted
    free = available_memory()
    fits = wanted if free is None else min(wanted, int(free * CALL_SHARE) // need)
    return min(fits, max(1, MAX_BATCH_BYTES // need)) if fits else 0


def memory_note(shape: ModelShape, windows: int, seq_len: int) -> str:
    """What ``windows`` windows need and what one call may take here, for a message."""
    need = size_text(shape.call_bytes(windows, seq_len))
    what = (
        f"1 window of {seq_len:,} tokens needs" if windows == 1 else f"{windows:,} windows of {seq_len:,} tokens need"
    )
    free = available_memory()
    if free is None:
        return f"{what} about {need}, and a call of several windows may take at most {size_text(MAX_BATCH_BYTES)}"
    limit = int(free * CALL_SHARE) if windows == 1 else min(MAX_BATCH_BYTES, int(free * CALL_SHARE))
    return f"{what} about {need}, and a model call may take at most {size_text(limit)} of the {size_text(free)} free"


def size_text(size: int) -> str:
    return f"{size / 2**30:.1f} GB" if size >= 2**30 else f"{size / 2**20:.0f} MB"


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _sysconf_available() -> int | None:
    """Free pages where the system counts them; else half the physical memory (macOS has no count of
    free pages here, and much of what it holds is cache it gives back)."""
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        if "SC_AVPHYS_PAGES" in os.sysconf_names:
            return os.sysconf("SC_AVPHYS_PAGES") * page
        return os.sysconf("SC_PHYS_PAGES") * page // 2
    except (AttributeError, OSError, ValueError):
        return None


def _cgroup_available() -> int | None:
    for limit_file, usage_file, statistics_file in CGROUP_FILES:
        limit, usage = _number_in(limit_file), _number_in(usage_file)
        if limit is not None and usage is not None:
            return max(0, limit - usage + _reclaimable_cache(statistics_file))
    return None


def _reclaimable_cache(statistics_file: str) -> int:
    try:
        with open(statistics_file, encoding="ascii") as statistics:
            for line in statistics:
                key, _, value = line.partition(" ")
                if key in ("inactive_file", "total_inactive_file") and value.strip().isdigit():
                    return int(value)
    except (OSError, UnicodeDecodeError):
        pass
    return 0


def _number_in(path: str) -> int | None:
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _windows_available() -> int | None:
    import ctypes

    class MemoryStatus(ctypes.Structure):
        _fields_ = [
            ("dwLength", ctypes.c_ulong),
            ("dwMemoryLoad", ctypes.c_ulong),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatus()
    status.dwLength = ctypes.sizeof(MemoryStatus)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
        return None
    return int(status.ullAvailPhys)
