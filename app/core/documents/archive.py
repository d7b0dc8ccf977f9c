"""ZIP containers (DOCX, EPUB) read with limits, so a damaged or hostile file becomes an InputError."""

from __future__ import annotations

import io
import zipfile
import zlib
from xml.etree import ElementTree

from reading_assistant.core.errors import InputError

# A small file can unpack to gigabytes (a "zip bomb"); no real book or report needs more than this.
MAX_UNPACKED_BYTES = 512 * 2**20


class Archive:
    """The members of a ZIP file, read by name; ``kind`` ("Word", "EPUB") is used in messages."""

    def __init__(self, data: bytes, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self._budget = MAX_UNPACKED_BYTES
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError) as error:
            raise InputError(f"{name} is not a valid {kind} file (it may be damaged)") from error
        self._names = set(self._zip.namelist())

    def __contains__(self, member: str) -> bool:
        return member in self._names

    def read(self, member: str) -> bytes:
        if member not in self._names:
            raise InputError(f"{self.name} is not a valid {self.kind} file: {member} is missing")
        try:
            with self._zip.open(member) as stream:
                # Read one byte past the budget to know it was exceeded without unpacking the rest.
                data = stream.read(self._budget + 1)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as error:
            raise InputError(f"{self.name} is damaged: {member} cannot be unpacked") from error
        self._budget -= len(data)
        if self._budget < 0:
            raise InputError(f"{self.name} unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
        return data

    def xml(self, member: str) -> ElementTree.Element:
        try:
            return ElementTree.fromstring(self.read(member))
        except ElementTree.ParseError as error:
            raise InputError(f"{self.name} is damaged: {member} is not valid XML") from error


def local_name(element: ElementTree.Element) -> str:
    """The tag without its namespace: the same vocabulary appears under more than one namespace."""
    return element.tag.rpartition("}")[2]
