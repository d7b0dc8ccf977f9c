"""A catalogue of hostile and odd inputs, each with its exact outcome.

Against the real command line, as processes (files and paths, standard input and output, questions,
options, model folders) and against the loaders (each format's broken and hostile variants,
encodings, huge and degenerate text). A bad input is refused with one line (exit 2, no
traceback); an odd but valid one is answered with offsets that slice the text exactly. Then
Hypothesis throws arbitrary bytes at every loader and arbitrary text at the engine.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from reading_assistant.core.documents import loading
from reading_assistant.core.documents.loading import FORMAT_OF, load_bytes, load_document, text_document
from reading_assistant.core.documents.plain_text import decode_text
from reading_assistant.core.engine import open_engine
from reading_assistant.core.errors import InputError, ReadingAssistantError
from reading_assistant.core.paths import bundled_model_dir
from reading_assistant.core.windows import without_surrogates
from tests import documents_samples as samples

TEXT = "Marie Curie was born in Warsaw in 1867. She moved to Paris in 1891 and won two Nobel Prizes.\n"
QUESTION = "Where was Marie Curie born?"


def run(*args: str, stdin=None, stdout=subprocess.PIPE, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real command line, as a reader runs it."""
    return subprocess.run(
        [sys.executable, "-m", "reading_assistant", *args],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=timeout,
        check=False,
    )


def refused(result: subprocess.CompletedProcess, message: str) -> None:
    """Exit 2, nothing on standard output, one line on standard error that says ``message``."""
    error = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, error
    assert result.stdout in (b"", None)
    assert len(error.strip().splitlines()) == 1, error
    assert message in error, error
    assert "Traceback" not in error


def answered(result: subprocess.CompletedProcess, text: str) -> dict:
    """Exit 0 with the JSON contract; every answer's offsets slice ``text`` exactly."""
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    output = json.loads(result.stdout)
    assert output["answers"]
    for answer in output["answers"]:
        assert text[answer["start"] : answer["end"]] == answer["text"]
        assert 0.0 <= answer["score"] <= 1.0
    return output


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# -- files and paths ------------------------------------------------------------------------------


def fifo(d: Path) -> Path:
    os.mkfifo(d / "pipe.txt")
    return d / "pipe.txt"


def symlink_loop(d: Path) -> Path:
    (d / "a.txt").symlink_to(d / "b.txt")
    (d / "b.txt").symlink_to(d / "a.txt")
    return d / "a.txt"


def dangling(d: Path) -> Path:
    (d / "gone.txt").symlink_to(d / "never-there.txt")
    return d / "gone.txt"


def sparse_over_the_limit(d: Path) -> Path:
    path = d / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(loading.MAX_BYTES + 1)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "no such file"),
        (lambda d: d, "is a folder, not a file"),
        (fifo, "pipe.txt is not a regular file"),
        (lambda d: Path("/dev/zero"), "zero is not a regular file"),
        (lambda d: Path("/dev/null"), "null is not a regular file"),
        (symlink_loop, "cannot read"),
        (dangling, "no such file"),
        (lambda d: d / ("x" * 300 + ".txt"), "cannot read"),
        (lambda d: write(d / "notes.txt", b"") / "inside.txt", "no such file"),
        (sparse_over_the_limit, "huge.txt is larger than 200 MB"),
        (lambda d: write(d / "empty.txt", b""), "empty.txt has no text"),
        (lambda d: write(d / "blank.txt", b" \n\t\r\n "), "blank.txt has no text"),
        (lambda d: write(d / "blob.txt", bytes(range(256)) * 8), "blob.txt looks like a binary file"),
        (lambda d: write(d / "sheet.xlsx", b"PK\x03\x04"), "unsupported file type .xlsx"),
        (lambda d: write(d / "broken.pdf", b"%PDF-1.7\n%%EOF"), "broken.pdf is not a valid PDF file"),
        (lambda d: write(d / "fake.docx", TEXT), "fake.docx is not a valid Word file"),
        (lambda d: write(d / "fake.epub", TEXT), "fake.epub is not a valid EPUB file"),
        (lambda d: write(d / "odd.txt", b"\xff\xfe\x00\xd8"), "odd.txt is damaged: it is not valid UTF-16"),
    ],
)
def test_files_that_cannot_be_read_are_refused_in_one_line(tmp_path, make, message):
    started = time.perf_counter()
    refused(run("ask", str(make(tmp_path)), QUESTION), message)
    assert time.perf_counter() - started < 30  # a FIFO or a device never blocks the read


# -- standard input and output --------------------------------------------------------------------


def test_closed_standard_input_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", "-", QUESTION],
        capture_output=True,
        preexec_fn=lambda: os.close(0),  # as `reading-assistant ask - Q <&-` starts it
        timeout=60,
        check=False,
    )
    refused(result, "standard input is closed: give a file, or pipe the text in")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "standard input has no text"),
        (b"\x00\x01\x02\x03" * 64, "standard input looks like a binary file"),
    ],
)
def test_bad_standard_input_is_refused(data, message):
    refused(
        subprocess.run(
            [sys.executable, "-m", "reading_assistant", "ask", "-", QUESTION],
            input=data,
            capture_output=True,
            timeout=60,
            check=False,
        ),
        message,
    )


def test_standard_input_is_answered():
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", "-", QUESTION, "--json"],
        input=TEXT.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert "Warsaw" in answered(result, TEXT)["answers"][0]["text"]


def test_a_full_disk_is_an_error_in_one_line(tmp_path):
    document = write(tmp_path / "curie.txt", TEXT)
    with open("/dev/full", "wb") as full:
        refused(run("ask", str(document), QUESTION, stdout=full), "cannot write the answers: No space left on device")


def test_a_closed_pipe_ends_quietly(tmp_path):
    document = write(tmp_path / "curie.txt", TEXT * 400)
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read the answers
    with os.fdopen(writer, "wb") as closed:
        result = run("ask", str(document), QUESTION, "--top-k", "100", stdout=closed)
    assert result.returncode in (0, 141)
    assert result.stderr == b""


# -- questions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "the question is empty"), ("   \t ", "the question is empty")],
)
def test_empty_questions_are_refused(tmp_path, question, message):
    refused(run("ask", str(write(tmp_path / "curie.txt", TEXT)), question), message)


@pytest.mark.parametrize(
    "question",
    [
        "Where was Marie Curie born? " * 300,  # far longer than the model's question budget
        "???",
        "🙂🙂🙂",
        "WHERE WAS MARIE CURIE BORN",
        "Где родилась Мария Кюри?",
        "where\nwas\tshe\rborn",
        "'; DROP TABLE answers; --",
    ],
)
def test_odd_questions_are_answered(tmp_path, question):
    answered(run("ask", str(write(tmp_path / "curie.txt", TEXT)), question, "--json"), TEXT)


def test_a_question_with_bytes_that_are_not_utf8_is_answered(tmp_path):
    document = write(tmp_path / "curie.txt", TEXT)
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"reading_assistant",
            b"ask",
            str(document).encode(),
            b"who \xff designed",
            b"--json",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert answered(result, TEXT)["question"] == "who \ufffd designed"


# -- options --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--top-k", "0"], "top_k from the command line must be between 1 and 100, not 0"),
        (["--top-k", "-3"], "top_k from the command line must be between 1 and 100"),
        (["--top-k", "1000"], "top_k from the command line must be between 1 and 100"),
        (["--top-k", "five"], "argument --top-k: invalid int value: 'five'"),
        (["--max-windows", "-1"], "max_windows from the command line must be between 0"),
        (["--seq-len", "100000000000000000000"], "seq_len from the command line must be between 16 and 4,096"),
        (["--seq-len", "10"], "seq_len from the command line must be between 16 and 4,096, not 10"),
        (["--doc-stride", "0"], "doc_stride from the command line must be between 1"),
        (["--max-answer-len", "0"], "max_answer_len from the command line must be between 1"),
        (["--max-answer-len", "-5"], "max_answer_len from the command line must be between 1"),
        (["--query-len", "380"], "seq_len (384) must exceed query_len (380) by at least 8 tokens"),
        (["--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_options_are_refused_in_one_line(tmp_path, options, message):
    refused(run("ask", str(write(tmp_path / "curie.txt", TEXT)), QUESTION, *options), message)


def test_missing_arguments_are_refused_in_one_line():
    refused(
        run("ask"), "ask takes a FILE and a QUESTION, or --library and a QUESTION (see 'reading-assistant ask --help')"
    )
    refused(run("ask", "book.txt"), "ask takes a FILE and a QUESTION")
    refused(run("eval"), "the following arguments are required: dataset")


def test_version_and_verbose(tmp_path):
    version = run("--version")
    assert version.returncode == 0 and version.stdout.decode().startswith("reading-assistant ")
    verbose = run("ask", str(write(tmp_path / "curie.txt", TEXT)), QUESTION, "-v")
    assert verbose.returncode == 0
    assert "INFO: model minilm-squad-int8" in verbose.stderr.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "dev.json is not a readable SQuAD JSON file"),
        (b'{"data": 5}', "dev.json"),
    ],
)
def test_bad_evaluation_data_is_refused(tmp_path, content, message):
    refused(run("eval", str(write(tmp_path / "dev.json", content))), message)


# -- odd but valid documents: offsets slice the text ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        ("bom.txt", "\ufeff" + TEXT, TEXT),  # a byte-order mark is not part of the text
        ("crlf.txt", TEXT.replace("\n", "\r\n") * 3, TEXT * 3),
        ("utf16.txt", TEXT.encode("utf-16-le"), TEXT),
        ("utf16be.txt", TEXT.encode("utf-16-be"), TEXT),
        ("latin1.txt", ("Café " + TEXT).encode("latin-1"), "Café " + TEXT),
        (
            "mixed.txt",
            ("Café crème.\n" + TEXT).encode() + "Déjà vu à Paris.\n".encode("latin-1"),
            "Café crème.\n" + TEXT + "Déjà vu à Paris.\n",
        ),
        ("emoji.txt", "📚🧪 " + TEXT.replace(" ", " \u200b"), "📚🧪 " + TEXT.replace(" ", " \u200b")),
        ("combining.txt", "Mare\u0301 " + TEXT, "Mare\u0301 " + TEXT),
        ("nul-free-control.txt", "\x07\x1b[31m" + TEXT, "\x07\x1b[31m" + TEXT),
        ("nospace.txt", ("abc,def." * 20_000) + " " + TEXT, ("abc,def." * 20_000) + " " + TEXT),
    ],
)
def test_odd_but_valid_text_is_answered_with_exact_offsets(tmp_path, name, data, text):
    document = write(tmp_path / name, data)
    assert load_document(document).text == text
    answered(run("ask", str(document), QUESTION, "--json"), text)


def test_a_long_markdown_heading_of_spaces_loads_in_linear_time(tmp_path):
    data = ("# a" + " " * 100_000 + "b\n\n" + TEXT).encode()
    started = time.perf_counter()
    document = load_document(write(tmp_path / "spaces.md", data))
    assert time.perf_counter() - started < 1.0
    assert document.sections[0].label.startswith("a") and document.sections[0].label.endswith("b")


@pytest.mark.parametrize(
    ("name", "markup"),
    [
        ("templates.html", "<template>" * 100_000 + "hidden" + "</template>" * 100_000 + "<p>" + TEXT),
        ("cells.html", "<table><tr>" + "<td>x</td>" * 100_000 + "</tr></table><p>" + TEXT),
        ("divs.html", "<div>" * 100_000 + TEXT + "</div>" * 100_000),
        ("unclosed.html", "<b><i><u>" * 30_000 + TEXT),
        ("comments.html", "<!--" + "-" * 200_000 + "-->" + TEXT),
    ],
)
def test_degenerate_html_loads_in_linear_time(tmp_path, name, markup):
    started = time.perf_counter()
    document = load_document(write(tmp_path / name, markup))
    assert time.perf_counter() - started < 2.0
    assert "Warsaw" in document.text


def test_a_word_file_with_a_long_chain_of_styles_loads_in_linear_time(tmp_path):
    styles = "".join(
        f'<w:style w:styleId="s{i}"><w:name w:val="Style {i}"/><w:basedOn w:val="s{i - 1}"/></w:style>'
        for i in range(1, 20_000)
    )
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    members = {
        "word/document.xml": f"<w:document {w}><w:body><w:p><w:r><w:t>{TEXT}</w:t></w:r></w:p></w:body></w:document>",
        "word/styles.xml": (
            f'<w:styles {w}><w:style w:styleId="s0"><w:name w:val="heading 1"/></w:style>{styles}</w:styles>'
        ),
    }
    started = time.perf_counter()
    document = load_document(zip_with(tmp_path / "styles.docx", members))
    assert time.perf_counter() - started < 2.0
    assert "Warsaw" in document.text


# -- each format's broken and hostile variants, through the loader API ---------------------------


def zip_with(path: Path, members: dict[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return path


def zip_bomb(path: Path, member: str) -> Path:
    """A small file whose one member unpacks to 300 MB of spaces."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, archive.open(member, "w") as out:
        block = b" " * 2**20
        for _ in range(300):
            out.write(block)
    return path


XXE = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>"
)
# "Billion laughs": nine levels of ten, a gigabyte of "lol" from a few hundred bytes.
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body></w:document>"
)
CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    '<rootfile full-path="PATH" media-type="application/oebps-package+xml"/></rootfiles></container>'
)


def encrypted_then_empty_pdf(d: Path) -> Path:
    """A PDF without pages, read after an encrypted one: pdfium's stale error must not say 'password'."""
    with pytest.raises(InputError, match="password"):
        load_document(samples.write_encrypted_pdf(d / "locked.pdf"))
    import pypdfium2 as pdfium

    buffer = io.BytesIO()
    pdfium.PdfDocument.new().save(buffer)
    return write(d / "nopages.pdf", buffer.getvalue())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: write(d / "truncated.pdf", samples.write_report_pdf(d / "r.pdf").read_bytes()[:900]),
            "truncated.pdf",
        ),
        (lambda d: write(d / "header.pdf", b"%PDF-1.4\n" + b"0" * 5000), "header.pdf is not a valid PDF file"),
        (encrypted_then_empty_pdf, "nopages.pdf is not a valid PDF file (it may be damaged, or have no pages)"),
        (lambda d: samples.write_encrypted_pdf(d / "locked.pdf"), "locked.pdf is password-protected"),
        (lambda d: samples.write_scanned_pdf(d / "scan.pdf"), "scan.pdf has no text layer"),
        (lambda d: zip_with(d / "x.docx", {"word/document.xml": XXE}), "x.docx"),
        (lambda d: zip_with(d / "laughs.docx", {"word/document.xml": LAUGHS}), "laughs.docx"),
        (lambda d: zip_bomb(d / "bomb.docx", "word/document.xml"), "bomb.docx unpacks to more than 200 MB"),
        (lambda d: zip_with(d / "empty.docx", {}), "empty.docx"),
        (lambda d: zip_with(d / "hollow.docx", {"word/other.xml": "<a/>"}), "document.xml is missing"),
        (lambda d: zip_with(d / "garbage.docx", {"word/document.xml": b"\x00\xff" * 100}), "garbage.docx is damaged"),
        (
            lambda d: write(d / "cut.docx", zip_with(d / "w.docx", {"word/document.xml": XXE}).read_bytes()[:60]),
            "cut.docx",
        ),
        (lambda d: zip_with(d / "nocontainer.epub", {"mimetype": "application/epub+zip"}), "container.xml"),
        (
            lambda d: zip_with(d / "noopf.epub", {"META-INF/container.xml": CONTAINER.replace("PATH", "x.opf")}),
            "noopf.epub",
        ),
        (
            lambda d: zip_with(
                d / "escape.epub", {"META-INF/container.xml": CONTAINER.replace("PATH", "../../etc/x.opf")}
            ),
            "escape.epub",
        ),
        (lambda d: zip_bomb(d / "bomb.epub", "META-INF/container.xml"), "bomb.epub unpacks to more than 200 MB"),
        (
            lambda d: write(d / "bare.html", "<html><head><title>Only a title</title></head></html>"),
            "bare.html has no text",
        ),
        (
            lambda d: write(d / "scripts.html", "<script>" + TEXT + "</script><style>p{}</style>"),
            "scripts.html has no text",
        ),
        (lambda d: write(d / "tags.html", "<p></p><div><br/></div>" * 1000), "tags.html has no text"),
    ],
)
def test_broken_and_hostile_files_are_refused_by_the_loaders(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError) as caught:
        load_document(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_zip_bomb_is_refused_without_unpacking_it(tmp_path):
    """The budget is checked a chunk at a time: memory stays far below the 300 MB the member holds."""
    bomb = zip_bomb(tmp_path / "bomb.docx", "word/document.xml")
    code = (
        "from reading_assistant.core.documents import load_document\n"
        f"try:\n    load_document({str(bomb)!r})\nexcept Exception as e:\n    print(e)\n"
        # VmHWM starts afresh at exec; ru_maxrss would carry the forking test process's peak.
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) // 1024)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    message, peak_mb = result.stdout.strip().splitlines()
    assert "unpacks to more than 200 MB" in message
    assert int(peak_mb) < 400, f"peak {peak_mb} MB"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbfplain", "plain"),
        ("ąęś żółć".encode(), "ąęś żółć"),
        ("Düsseldorf Straße".encode("cp1252"), "Düsseldorf Straße"),
        (b"one\r\ntwo\rthree\n", "one\ntwo\nthree\n"),
        ("utf-16 with a mark".encode("utf-16"), "utf-16 with a mark"),
        ("utf-32".encode("utf-32"), "utf-32"),
        ("no mark, little end".encode("utf-16-le"), "no mark, little end"),
    ],
)
def test_encodings_are_read_as_text(data, expected):
    assert decode_text(data, "sample") == expected


def test_pasted_text_follows_the_files_rules():
    assert text_document("a\r\nb\ud800c", "Pasted text").text == "a\nb\ufffdc"
    with pytest.raises(InputError, match="Pasted text has no text"):
        text_document(" \n ", "Pasted text")


# -- model folders --------------------------------------------------------------------------------


def model_copy(d: Path) -> Path:
    folder = d / "model"
    shutil.copytree(bundled_model_dir(), folder)
    return folder


def with_config(d: Path, **settings) -> Path:
    folder = model_copy(d)
    config = json.loads((folder / "reading_assistant.json").read_text())
    (folder / "reading_assistant.json").write_text(json.dumps({**config, **settings}))
    return folder


def with_graph(d: Path, build) -> Path:
    """A model folder with the bundled tokenizer and a hand-made ONNX graph."""
    folder = d / "graph"
    folder.mkdir()
    shutil.copy(bundled_model_dir() / "tokenizer.json", folder / "tokenizer.json")
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])]
    nodes, outputs = build()
    graph = helper.make_graph(nodes, "qa", inputs, outputs)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "model.onnx"))
    return folder


def three_dimensional_outputs():
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["f", "axes"], ["start_logits"]),
        helper.make_node("Unsqueeze", ["f", "axes"], ["end_logits"]),
    ]
    nodes.insert(
        0, helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("a", TensorProto.INT64, [1], [2]))
    )
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "tokens", 1])
        for n in ("start_logits", "end_logits")
    ]
    return nodes, outputs


def nan_outputs():
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["nan"], value=helper.make_tensor("n", TensorProto.FLOAT, [], [float("nan")])),
        helper.make_node("Mul", ["f", "nan"], ["start_logits"]),
        helper.make_node("Mul", ["f", "nan"], ["end_logits"]),
    ]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "tokens"]) for n in ("start_logits", "end_logits")
    ]
    return nodes, outputs


def integer_outputs():
    nodes = [
        helper.make_node("Identity", ["input_ids"], ["start_logits"]),
        helper.make_node("Identity", ["input_ids"], ["end_logits"]),
    ]
    outputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in ("start_logits", "end_logits")
    ]
    return nodes, outputs


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "nowhere", "model folder not found"),
        (lambda d: write(d / "file-not-folder", b"x"), "model folder not found"),
        (lambda d: with_config(d, seq_len="384"), "seq_len from"),
        (lambda d: with_config(d, seq_len=None), "seq_len from"),
        (lambda d: with_config(d, batch_size=0), "batch_size from"),
        (lambda d: with_config(d, temperature=0), "temperature from"),
        (lambda d: with_config(d, temperature=float("nan")), "temperature from"),
        (lambda d: with_config(d, doc_stride=-1), "doc_stride from"),
        (lambda d: with_config(d, onnx_file=5), "onnx_file from"),
        (lambda d: with_config(d, onnx_file="missing.onnx"), "has no ONNX model missing.onnx"),
        (lambda d: write(model_copy(d) / "reading_assistant.json", b"[1, 2]").parent, "must hold a JSON object"),
        (lambda d: write(model_copy(d) / "reading_assistant.json", b"{broken").parent, "cannot read"),
        (lambda d: write(model_copy(d) / "tokenizer.json", b"{}").parent, "cannot read the tokenizer"),
        (lambda d: write(model_copy(d) / "model.onnx", b"not onnx").parent, "cannot load the model"),
        (lambda d: with_graph(d, three_dimensional_outputs), "has 3 dimensions"),
        (lambda d: with_graph(d, integer_outputs), "is tensor(int64), where tensor(float)"),
        (lambda d: with_graph(d, nan_outputs), "invalid scores (NaN or infinity)"),
    ],
)
def test_model_folders_that_cannot_work_are_refused_in_one_line(tmp_path, make, message):
    document = write(tmp_path / "curie.txt", TEXT)
    refused(run("ask", str(document), QUESTION, "--model", str(make(tmp_path))), message)


# -- fuzzing --------------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


MEMBER_NAMES = st.sampled_from(
    ["word/document.xml", "word/styles.xml", "mimetype", "META-INF/container.xml", "content.opf", "a/b.xhtml"]
)
ARCHIVES = st.dictionaries(MEMBER_NAMES, st.binary(max_size=512), max_size=4).map(zip_of)


@pytest.mark.parametrize("suffix", sorted(FORMAT_OF))
@FUZZ
@given(data=st.one_of(st.binary(max_size=2048), ARCHIVES))
def test_any_bytes_give_a_document_or_one_input_error(suffix, data):
    try:
        document = load_bytes(data, f"fuzz{suffix}")
    except InputError as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert document.text.strip()


@pytest.fixture(scope="module")
def small_engine(tiny_bert):
    return open_engine(tiny_bert, device="cpu")


@settings(
    max_examples=300, deadline=3000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(document=st.text(max_size=600), question=st.text(max_size=80))
def test_any_text_gives_answers_that_slice_it_or_one_input_error(small_engine, document, question):
    try:
        prediction = small_engine.ask(document, question)
    except ReadingAssistantError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert np.isfinite(prediction.no_answer_score)
    # The engine reads lone surrogates as U+FFFD, one character for one, so offsets still hold.
    readable = without_surrogates(document)
    for answer in prediction.answers:
        assert 0 <= answer.start < answer.end <= len(document)
        assert answer.text == readable[answer.start : answer.end]
