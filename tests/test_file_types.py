"""The file types the installers offer the app for are the ones it reads: the Linux desktop entry and
the Windows installer script are checked against the loaders' table (the macOS bundle's spec reads
the table itself)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from reading_assistant.core.documents import FORMATS, loading, supported_suffixes
from reading_assistant.core.documents.formats import mime_types

PACKAGING = Path(__file__).resolve().parents[1] / "packaging"


def test_every_suffix_has_one_format_and_its_loader():
    suffixes = [suffix for form in FORMATS for suffix in form.suffixes]
    assert len(suffixes) == len(set(suffixes))
    assert {suffix: form for form in FORMATS for suffix in form.suffixes} == loading.FORMAT_OF
    assert "" in loading.FORMAT_OF and "" not in supported_suffixes()  # README, LICENSE: plain text


def test_the_desktop_entry_offers_every_format():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "linux" / "reading-assistant.desktop", encoding="utf-8")
    offered = [mime for mime in entry["Desktop Entry"]["MimeType"].split(";") if mime]
    assert offered == list(mime_types())


def test_the_windows_installer_offers_every_suffix_and_only_those():
    script = (PACKAGING / "windows" / "reading-assistant.iss").read_text(encoding="utf-8")
    supported = re.findall(r'SupportedTypes"; ValueType: string; ValueName: "(\.\w+)"', script)
    open_with = re.findall(r'Subkey: "Software\\Classes\\(\.\w+)\\OpenWithProgids"', script)
    assert sorted(supported) == sorted(open_with) == sorted(supported_suffixes())


def test_the_macos_bundle_takes_its_document_types_from_the_table():
    spec = (PACKAGING / "reading-assistant.spec").read_text(encoding="utf-8")
    assert "from reading_assistant.core.documents.formats import FORMATS" in spec
    assert "com.adobe.pdf" not in spec and "org.idpf.epub-container" not in spec  # no list of its own
