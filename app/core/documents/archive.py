"""ZIP containers (DOCX, EPUB) read with limits, so a damaged or hostile file becomes an InputError."""

from __future__ import annotations

import io
import zipfile
import zlib
from xml.etree import ElementTree

from ..errors import InputError
from ..stopping import StopCheck, check_stop

# A small file can unpack to gigabytes (a "zip bomb"). Only text members (XML, XHTML) are read,
# and no real book or report has more text than this.
MAX_UNPACKED_BYTES = 200 * 2**20
CHUNK_BYTES = 2**20


class Archive:
    """The members of a ZIP file, read by name; ``kind`` ("Word", "EPUB") is used in messages."""

    def __init__(self, data: bytes, name: str, kind: str, should_stop: StopCheck | None = None) -> None:
        self.name = name
        self.kind = kind
        self.should_stop = should_stop
        self._budget = MAX_UNPACKED_BYTES
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError) as error:
            raise InputError(f"{name} is not a valid {kind} file (it may be damaged)") from error
        self._names = set(self._zip.namelist())

    def __contains__(self, member: str) -> bool:
        return member in self._names

    def read(self, member: str) -> bytes:
        """A member's bytes, unpacked a chunk at a time against what is left of the budget, with a stop
        check before each chunk."""
        if member not in self._names:
            raise InputError(f"{self.name} is not a valid {self.kind} file: {member} is missing")
        too_large = InputError(f"{self.name} unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB")
        if self._zip.getinfo(member).file_size > self._budget:  # what the archive says, before unpacking
            raise too_large
        data = bytearray()
        try:
            with self._zip.open(member) as stream:
                # The declared size may lie: count what really comes out.
                while True:
                    check_stop(self.should_stop)
                    chunk = stream.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    data += chunk
                    if len(data) > self._budget:
                        raise too_large
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as error:
            raise InputError(f"{self.name} is damaged: {member} cannot be unpacked") from error
        self._budget -= len(data)
        return bytes(data)

    def xml(self, member: str) -> ElementTree.Element:
        """A member parsed as XML, a chunk at a time with a stop check before each (a book's body
        can be a hundred megabytes)."""
        data = self.read(member)
        parser = ElementTree.XMLParser()
        try:
            for start in range(0, len(data), CHUNK_BYTES):
                check_stop(self.should_stop)
                parser.feed(data[start : start + CHUNK_BYTES])
            return parser.close()
        except ElementTree.ParseError as error:
            raise InputError(f"{self.name} is damaged: {member} is not valid XML") from error


def local_name(element: ElementTree.Element) -> str:
    """The tag without its namespace: the same vocabulary appears under more than one namespace."""
    return element.tag.rpartition("}")[2]
