"""EPUB: the chapters in spine order, each read as HTML, each a section named after its chapter."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import unquote
from xml.etree import ElementTree

from ..errors import InputError
from ..stopping import checked
from .archive import Archive, local_name
from .document import Document, TextBuilder
from .html_text import html_to_document
from .load_options import NO_OPTIONS, LoadOptions
from .plain_text import decode_text

CONTAINER = "META-INF/container.xml"
ENCRYPTION = "META-INF/encryption.xml"
# Font obfuscation (IDPF and Adobe) is listed in encryption.xml too, but leaves the text readable.
FONT_OBFUSCATION = frozenset({"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"})
CHAPTER_TYPES = frozenset({"application/xhtml+xml", "text/html"})
NCX_TYPE = "application/x-dtbncx+xml"


def load_epub(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    archive = Archive(data, name, "EPUB", options.should_stop)
    if ENCRYPTION in archive and encrypts_text(archive.xml(ENCRYPTION)):
        raise InputError(f"{name} is protected by DRM, so its text cannot be read")
    package_path = package_document(archive)
    package = archive.xml(package_path)
    items = {item.get("id", ""): item for item in find_all(package, "item")}
    titles = table_of_contents(archive, package, items, package_path)
    builder = TextBuilder()
    for reference in checked(find_all(package, "itemref"), options.should_stop, 1):
        item = items.get(reference.get("idref", ""))
        if item is None or item.get("media-type") not in CHAPTER_TYPES:
            continue
        path = resolve(package_path, item.get("href", ""))
        markup = decode_text(archive.read(path), name, options.should_stop)
        chapter = html_to_document(markup, name, options.should_stop)
        heading = chapter.sections[0].label if chapter.sections else None
        builder.add(chapter.text, section=titles.get(path) or heading or PurePosixPath(path).stem)
    return builder.document(name, "epub")


def encrypts_text(encryption: ElementTree.Element) -> bool:
    """Whether anything other than fonts is encrypted: that is DRM, and the chapters are unreadable."""
    methods = [element.get("Algorithm") for element in find_all(encryption, "EncryptionMethod")]
    return any(method not in FONT_OBFUSCATION for method in methods)


def package_document(archive: Archive) -> str:
    """The path of the OPF package document that META-INF/container.xml points to."""
    for rootfile in find_all(archive.xml(CONTAINER), "rootfile"):
        if rootfile.get("full-path"):
            return unquote(rootfile.get("full-path", ""))
    raise InputError(f"{archive.name} is not a valid EPUB file: it names no package document")


def table_of_contents(
    archive: Archive, package: ElementTree.Element, items: dict[str, ElementTree.Element], package_path: str
) -> dict[str, str]:
    """Chapter titles by file path, from the EPUB 3 navigation document or else the EPUB 2 NCX.

    The first entry for a file wins: a file holding several chapters is named after the first.
    """
    spine = next(find_all(package, "spine"), None)
    navigation = [item for item in items.values() if "nav" in item.get("properties", "").split()]
    toc = navigation[0] if navigation else items.get(spine.get("toc", "") if spine is not None else "")
    if toc is None:
        return {}
    toc_path = resolve(package_path, toc.get("href", ""))
    try:
        root = archive.xml(toc_path)
    except InputError:
        # The table of contents only names the chapters; the book reads without it.
        return {}
    if toc.get("media-type") == NCX_TYPE:
        entries = [ncx_entry(point) for point in find_all(root, "navPoint")]
    else:
        entries = [(element_text(link), link.get("href", "")) for link in find_all(root, "a")]
    titles: dict[str, str] = {}
    for label, href in entries:
        if label and href:
            titles.setdefault(resolve(toc_path, href), label)
    return titles


def ncx_entry(point: ElementTree.Element) -> tuple[str, str]:
    """(label, href) of an NCX navPoint, whose own label and content come before the navPoints nested in it."""
    label = next(find_all(point, "navLabel"), None)
    content = next(find_all(point, "content"), None)
    return ("" if label is None else element_text(label)), ("" if content is None else content.get("src", ""))


def element_text(element: ElementTree.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def find_all(root: ElementTree.Element, tag: str) -> Iterator[ElementTree.Element]:
    """Elements named ``tag`` in any namespace (EPUB 2 and 3 files differ, and some omit them)."""
    return (element for element in root.iter() if local_name(element) == tag)


def resolve(base_file: str, href: str) -> str:
    """The archive path of ``href`` written in ``base_file``, without its #fragment."""
    target = unquote(href.partition("#")[0])
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_file), target))
