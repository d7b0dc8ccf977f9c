"""A file whose name does not say what it is ("LICENSE", "Apache-2.0", "notes.log", a download
saved without a suffix) opens by what its bytes are; a binary the app cannot read is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from reading_assistant.core.documents import load_document
from reading_assistant.core.documents.sniffing import sniffed_suffix
from reading_assistant.core.errors import InputError
from tests import documents_samples as samples


def renamed(path: Path, name: str) -> Path:
    return path.rename(path.with_name(name))


@pytest.mark.parametrize(
    ("make", "name", "format", "words"),
    [
        (lambda d: samples.write_report_pdf(d / "r.pdf"), "report", "pdf", "harbour"),
        (lambda d: samples.write_report_pdf(d / "r.pdf"), "report.download", "pdf", "harbour"),
        (lambda d: samples.write_docx(d / "w.docx"), "letter", "docx", "gulls"),
        (lambda d: samples.write_epub(d / "b.epub"), "book.bin-1", "epub", "schooner"),
    ],
)
def test_a_document_opens_by_what_it_is_whatever_its_name(tmp_path, make, name, format, words):
    document = load_document(renamed(make(tmp_path), name))
    assert document.format == format and words.casefold() in document.text.casefold()


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        ("LICENSE", b"MIT License\n\nPermission is hereby granted.\n", "Permission is hereby granted."),
        ("Apache-2.0", "Licence \u00e9crite en fran\u00e7ais.\n".encode("latin-1"), "Licence \u00e9crite"),
        ("MPL-2.0", "Mozilla Public License 2.0\n".encode("utf-16"), "Mozilla Public License"),
        ("notes.log", b"12:01 started the build\n12:07 the build passed\n", "the build passed"),
        ("CHANGES", b"\xef\xbb\xbfVersion 2 fixed the parser.\n", "Version 2 fixed the parser."),
    ],
)
def test_text_without_a_known_suffix_opens_in_any_common_encoding(tmp_path, name, data, text):
    path = tmp_path / name
    path.write_bytes(data)
    document = load_document(path)
    assert document.format == "text" and text in document.text


def test_html_and_images_are_recognised_by_their_first_bytes(tmp_path):
    page = b"<!DOCTYPE html>\n<html><body><h1>Tides</h1><p>The quay dries out twice a day.</p></body></html>"
    (tmp_path / "saved-page").write_bytes(page)
    assert load_document(tmp_path / "saved-page").format == "html"
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(picture, format="PNG")
    assert sniffed_suffix(picture.getvalue(), "scan") == ".png"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("program", bytes(range(256)) * 64),
        ("archive.bin", bytes(range(256)) * 64),
        ("data.0", bytes(range(256)) * 64),
        ("tool", b"MZ\x90\x00"),  # a program's header alone would decode as two bytes of UTF-16
        ("photo", b"GIF89a\x01\x00\x01\x00\x00\xff\x00,"),
    ],
)
def test_a_binary_the_app_cannot_read_is_refused_in_one_sentence(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=rf"{name}: unsupported file type") as caught:
        load_document(path)
    assert "\n" not in str(caught.value)


def test_a_zip_that_is_no_document_is_refused(tmp_path):
    path = tmp_path / "bundle"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError, match="unsupported file type"):
        load_document(path)
