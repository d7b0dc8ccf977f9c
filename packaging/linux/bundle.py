"""What packaging/build.py does to the Linux bundle after PyInstaller, and what it reads from it.

- strip_binaries: every shared library that still carries its symbol table loses it, except the
  copies auditwheel vendored into a wheel's ``*.libs`` folder: patchelf moved their segments, and
  strip then breaks them ("ELF load command address/offset not page-aligned": numpy's OpenBLAS).
- trim_icu_data: Qt's ICU data (libicudata, 32 MB) loses what no Qt code the app runs reads: the
  display names of languages, regions, currencies, units and time zones, transliteration, spelled-out
  numbers, and the legacy character-set tables (QStringDecoder for Shift_JIS and the like; the app
  decodes documents in Python). Collation, case mapping, text boundaries and normalization stay, and
  the result is checked: Qt collates Swedish and German with it. ICU's own tool takes the items out
  (icupkg); the assembler and linker make the library anew, with the same name and symbol.
- drop_build_paths: a library's search path that names a folder of the build machine (pyenv's
  Python: RUNPATH /root/.pyenv/versions/3.11.7/lib) is taken out, so the app never looks for
  libraries there on a reader's machine; the bundle's own ($ORIGIN/...) paths stay.
- glibc_floor: the newest glibc version any file of the bundle needs, read from the files' ELF
  version needs (install.sh and the .deb refuse an older system, naming that version).

Standard library only; runs strip, nm, as, ld (binutils) and icupkg (icu-devtools on Debian/Ubuntu).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_SYMTAB = 2
SHT_DYNAMIC = 6
SHT_GNU_VERNEED = 0x6FFFFFFE
DT_RPATH = 15
DT_RUNPATH = 29
GLIBC_VERSION = re.compile(rb"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?")
# ICU data items that no Qt code the app runs reads (see above): whole trees, and files by suffix.
ICU_TREES_DROPPED = frozenset({"lang", "region", "curr", "unit", "zone", "translit", "rbnf"})
ICU_SUFFIXES_DROPPED = (".cnv",)
ICU_TOOLS = ("icupkg", "nm", "as", "ld")
# Collation is what the kept data is for (file dialogs sort with it): ö sorts after z in Swedish,
# before it in German, and ICU says so only when the collation data is readable.
ICU_CHECK = (
    "from PySide6.QtCore import QCollator, QLocale\n"
    "sv = QCollator(QLocale('sv_SE')).compare('\\u00f6', 'z')\n"
    "de = QCollator(QLocale('de_DE')).compare('\\u00f6', 'z')\n"
    "raise SystemExit(0 if sv > 0 > de else f'Swedish {sv}, German {de}')\n"
)


class BundleError(Exception):
    pass


def elf_files(folder: Path) -> Iterator[Path]:
    """The ELF files under ``folder`` (links skipped: their targets are in the folder too)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if file.read(4) == ELF_MAGIC:
                    yield path


class Elf:
    """One ELF file's section headers, read with seeks (a library may be tens of MB)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as file:
            ident = file.read(16)
            if len(ident) < 16 or ident[:4] != ELF_MAGIC or ident[4] not in (1, 2) or ident[5] not in (1, 2):
                raise BundleError(f"{path} is not an ELF file")
            self.little_endian = ident[5] == 1
            self.order = "<" if self.little_endian else ">"
            wide = self.wide = ident[4] == 2
            header = file.read(48 if wide else 36)
            layout = "24xQ10xHH2x" if wide else "16xI10xHH2x"  # e_shoff, e_shentsize, e_shnum
            table, entry_size, count = struct.unpack(self.order + layout, header)
            section = self.order + ("4xI8xQQQII" if wide else "4xI4xIIIII")  # type, addr, offset, size, link, info
            self.sections = []
            for index in range(count):
                file.seek(table + index * entry_size)
                self.sections.append(struct.unpack(section, file.read(struct.calcsize(section))))

    def read(self, offset: int, size: int) -> bytes:
        with self.path.open("rb") as file:
            file.seek(offset)
            return file.read(size)

    def has(self, section_type: int) -> bool:
        return any(section[0] == section_type for section in self.sections)

    def offset_of(self, address: int) -> int:
        """Where in the file the byte loaded at ``address`` lies."""
        for _, start, offset, size, _, _ in self.sections:
            if start and start <= address < start + size:
                return offset + address - start
        raise BundleError(f"no section of {self.path.name} holds the address {address:#x}")

    def dynamic(self) -> tuple[int, int, list[tuple[int, int]], bytes] | None:
        """(offset, size, [(tag, value)], its string table) of the dynamic section; None without one."""
        for kind, _, offset, size, link, _ in self.sections:
            if kind == SHT_DYNAMIC:
                entry = self.order + ("qQ" if self.wide else "iI")
                data = self.read(offset, size)
                entries = [struct.unpack_from(entry, data, at) for at in range(0, size, struct.calcsize(entry))]
                _, _, strings_offset, strings_size, _, _ = self.sections[link]
                return offset, size, entries, self.read(strings_offset, strings_size)
        return None

    def needed_versions(self) -> list[bytes]:
        """The symbol versions the file needs from its libraries (GLIBC_2.34, GLIBCXX_3.4.29, ...)."""
        names = []
        for kind, _, offset, size, link, count in self.sections:
            if kind != SHT_GNU_VERNEED:
                continue
            _, _, strings_offset, strings_size, _, _ = self.sections[link]
            strings = self.read(strings_offset, strings_size)
            data = self.read(offset, size)
            entry = 0
            for _ in range(count):  # Elf_Verneed: version, count, file, aux, next
                _, aux_count, _, aux, following = struct.unpack_from(self.order + "HHIII", data, entry)
                position = entry + aux
                for _ in range(aux_count):  # Elf_Vernaux: hash, flags, other, name, next
                    _, _, _, name, step = struct.unpack_from(self.order + "IHHII", data, position)
                    names.append(strings[name : strings.index(b"\0", name)])
                    position += step
                entry += following
        return names


def glibc_floor(folder: Path) -> str:
    """The newest glibc that any file of the bundle needs, such as "2.35"."""
    floor = (2, 0)
    for path in elf_files(folder):
        for name in Elf(path).needed_versions():
            match = GLIBC_VERSION.fullmatch(name)
            if match:
                floor = max(floor, tuple(int(part) for part in match.groups() if part is not None))
    return ".".join(str(part) for part in floor)


def drop_build_paths(folder: Path) -> list[str]:
    """Take out every RPATH and RUNPATH that is no path inside the bundle; the paths taken out."""
    dropped = []
    for path in elf_files(folder):
        elf = Elf(path)
        dynamic = elf.dynamic()
        if dynamic is None:
            continue
        offset, size, entries, strings = dynamic
        kept = []
        for tag, value in entries:
            search = strings[value : strings.index(b"\0", value)] if tag in (DT_RPATH, DT_RUNPATH) else b""
            if search and b"$ORIGIN" not in search:
                dropped.append(search.decode(errors="replace"))
            else:
                kept.append((tag, value))
        if len(kept) < len(entries):
            # As chrpath -d does: the entries after it move up, and the end fills with DT_NULL.
            entry = elf.order + ("qQ" if elf.wide else "iI")
            data = b"".join(struct.pack(entry, *pair) for pair in kept)
            with path.open("r+b") as file:
                file.seek(offset)
                file.write(data.ljust(size, b"\0"))
    return sorted(set(dropped))


def _require(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise BundleError(
            f"{', '.join(missing)} not found: install binutils and icu-devtools (apt-get install binutils icu-devtools)"
        )


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(f"{Path(str(command[0])).name} failed: {(result.stderr or result.stdout).strip()[-500:]}")
    return result.stdout


def strip_binaries(folder: Path) -> int:
    """Strip every shared library that has a symbol table, but auditwheel's vendored copies; bytes saved."""
    _require("strip")
    saved = 0
    for path in elf_files(folder):
        # The executables carry PyInstaller's archive after the ELF image: never stripped.
        if path.parent.name.endswith(".libs") or ".so" not in path.name or not Elf(path).has(SHT_SYMTAB):
            continue
        before = path.stat().st_size
        _run("strip", "--strip-unneeded", path)
        saved += before - path.stat().st_size
    return saved


def _icu_data(library: Path) -> tuple[str, bytes]:
    """(symbol, package) of a libicudata: icudt73_dat and the ICU data package it holds."""
    for line in _run("nm", "--dynamic", "--defined-only", "--print-size", library).splitlines():
        parts = line.split()
        if len(parts) == 4 and re.fullmatch(r"icudt\d+_dat", parts[3]):
            elf = Elf(library)
            return parts[3], elf.read(elf.offset_of(int(parts[0], 16)), int(parts[1], 16))
    raise BundleError(f"{library.name} exports no icudt*_dat symbol with a size")


def trim_icu_data(folder: Path, python: Path) -> int:
    """Trim every libicudata of the bundle (see above), checked by ``python``'s Qt; bytes saved."""
    libraries = [path for path in folder.rglob("libicudata.so.*") if path.is_file() and not path.is_symlink()]
    if libraries:
        _require(*ICU_TOOLS)
    return sum(_trim_icu_library(library, python) for library in libraries)


def _trim_icu_library(library: Path, python: Path) -> int:
    symbol, package = _icu_data(library)
    # The items inside are named after the package (icudt73l/coll/root.res), so the files keep that name.
    name = symbol.removesuffix("_dat") + ("l" if Elf(library).little_endian else "b")
    with tempfile.TemporaryDirectory(prefix="reading-assistant-icu-") as folder:
        work = Path(folder)
        (work / "full").mkdir()
        (work / "full" / f"{name}.dat").write_bytes(package)
        items = _run("icupkg", "--list", work / "full" / f"{name}.dat").split()
        dropped = [
            item for item in items if item.split("/")[0] in ICU_TREES_DROPPED or item.endswith(ICU_SUFFIXES_DROPPED)
        ]
        if not dropped:  # trimmed already
            return 0
        (work / "dropped.txt").write_text("\n".join(dropped) + "\n", encoding="utf-8")
        (work / "trimmed").mkdir()
        trimmed = work / "trimmed" / f"{name}.dat"
        _run("icupkg", "--remove", work / "dropped.txt", work / "full" / f"{name}.dat", trimmed)
        kept = _run("icupkg", "--list", trimmed).split()
        if len(kept) != len(items) - len(dropped):
            raise BundleError(f"icupkg kept {len(kept)} of {len(items)} ICU items, not {len(items) - len(dropped)}")
        # The data as the only content of a library of the same name, exported under the same symbol,
        # aligned as ICU wants it; the stack note keeps the library from asking for an executable stack.
        (work / "data.s").write_text(
            f".section .rodata\n.globl {symbol}\n.type {symbol}, @object\n.balign 16\n{symbol}:\n"
            f'.incbin "trimmed/{name}.dat"\n.size {symbol}, . - {symbol}\n.section .note.GNU-stack,"",@progbits\n',
            encoding="utf-8",
        )
        _run("as", "-o", "data.o", "data.s", cwd=work)
        rebuilt = work / library.name
        _run("ld", "-shared", "-soname", library.name, "-z", "noexecstack", "-o", rebuilt, work / "data.o")
        _check_icu(python, rebuilt)
        before = library.stat().st_size
        shutil.copyfile(rebuilt, library)
    return before - library.stat().st_size


def _check_icu(python: Path, library: Path) -> None:
    # Preloaded, the new library stands in for the wheel's own (the same soname) under PySide6's Qt.
    env = dict(os.environ, LD_PRELOAD=str(library), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([str(python), "-c", ICU_CHECK], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BundleError(f"Qt cannot collate with the trimmed ICU data: {(result.stderr or result.stdout).strip()}")
