"""The Python API's contract: a ``str`` is always text, a file is a path, every wrong type or value
is one ``InputError`` naming the argument before anything is read, and readers close."""

from __future__ import annotations

import gc
import os
import re
import threading
import weakref
from pathlib import Path

import pytest

from reading_assistant.api import Cancelled, Closed, InputError, ModelError, open_library, open_reader

TEXT = (
    "Marie Curie was born in Warsaw, Poland. She won the Nobel Prize in 1903 and moved to Paris.\n"
    "The quick brown fox jumps over the lazy dog near the river bank.\n"
) * 20
QUESTION = "Where was she born?"


class FileName:
    """An ``os.PathLike`` that is not a ``pathlib.Path``."""

    def __init__(self, path: str | bytes | object) -> None:
        self.path = path

    def __fspath__(self):
        return self.path


@pytest.fixture(scope="module")
def reader(tiny_bert):
    with open_reader(tiny_bert, device="cpu") as opened:
        yield opened


@pytest.fixture()
def document(tmp_path) -> Path:
    path = tmp_path / "curie.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def sliced_from(result: dict, text: str) -> bool:
    """Every answer's offsets slice ``text`` exactly: the answers were read from it."""
    return all(text[a["start"] : a["end"]] == a["text"] for a in result["answers"])


# -- a str is text, a path is a file ----------------------------------------------------------------


def test_a_str_is_always_the_text_even_when_it_names_a_file(reader, document, monkeypatch):
    monkeypatch.chdir(document.parent)
    for name in (document.name, str(document)):  # relative and absolute, both existing files
        as_text = reader.ask(name, "Where is the file?", top_k=3)
        assert as_text["answers"] and sliced_from(as_text, name)
    assert sliced_from(reader.ask(Path(document.name), QUESTION, top_k=3), TEXT)  # a Path is the file


def test_any_path_like_object_names_a_file(reader, document):
    expected = reader.ask(document, QUESTION, top_k=3)
    for given in (FileName(str(document)), FileName(os.fsencode(document))):
        result = reader.ask(given, QUESTION, top_k=3)
        assert result["answers"] == expected["answers"] and sliced_from(result, TEXT)


def test_ask_many_takes_text_and_files_in_one_batch(reader, document):
    results = reader.ask_many([(str(document), QUESTION), (document, QUESTION)], top_k=2)
    assert sliced_from(results[0], str(document)) and sliced_from(results[1], TEXT)


# -- every wrong type and value: one InputError naming the argument, before anything is read ---------


def refuses(call, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)) as raised:
        call()
    assert type(raised.value) is InputError
    assert "\n" not in str(raised.value)


DOCUMENT_TYPES = "document must be a str (the text), a pathlib.Path (a file) or a Document"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((42, QUESTION), f"{DOCUMENT_TYPES}, not int"),
        ((b"Marie Curie was born in Warsaw.", QUESTION), f"{DOCUMENT_TYPES}, not bytes"),
        ((None, QUESTION), f"{DOCUMENT_TYPES}, not NoneType"),
        ((["a", "list"], QUESTION), f"{DOCUMENT_TYPES}, not list"),
        ((FileName(""), QUESTION), "document is not a usable path: ''"),
        ((FileName("a\x00b"), QUESTION), "document is not a usable path: 'a\\x00b'"),
        ((FileName("x" * 5000), QUESTION), "document is not a usable path"),
        ((FileName(3), QUESTION), "document must be a path, not FileName"),
        ((TEXT, 42), "question must be a str, not int"),
        ((TEXT, None), "question must be a str, not NoneType"),
        ((TEXT, b"Where?"), "question must be a str, not bytes"),
        ((TEXT, " \t\n"), "question is empty"),
        ((TEXT, "Where? " * 20_000), "question is 140,000 characters long, more than the 100,000 accepted"),
    ],
)
def test_wrong_documents_and_questions_are_refused(reader, arguments, message):
    refuses(lambda: reader.ask(*arguments), message)
    refuses(lambda: reader.predict(*arguments), message)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"top_k": "3"}, "top_k from the call must be a whole number, not '3'"),
        ({"top_k": True}, "top_k from the call must be a whole number, not True"),
        ({"top_k": 2.0}, "top_k from the call must be a whole number, not 2.0"),
        ({"top_k": 0}, "top_k from the call must be between 1 and 100, not 0"),
        ({"top_k": 101}, "top_k from the call must be between 1 and 100, not 101"),
        ({"max_windows": -1}, "max_windows from the call must be between 0 and 10,000,000, not -1"),
        ({"max_windows": 10**8}, "max_windows from the call must be between 0 and 10,000,000"),
        ({"max_windows": "all"}, "max_windows from the call must be a whole number, not 'all'"),
        ({"max_answer_len": 0}, "max_answer_len from the call must be between 1 and 4,096, not 0"),
        ({"max_answer_len": -5}, "max_answer_len from the call must be between 1 and 4,096"),
        ({"on_progress": 5}, "on_progress must be a function or None, not int"),
        ({"stop": "yes"}, "stop must be a threading.Event or a function returning True to stop, not str"),
        ({"stop": 1}, "stop must be a threading.Event or a function returning True to stop, not int"),
        ({"source": 3}, "source must be a str, not int"),
    ],
)
def test_wrong_options_are_refused_before_the_document_is_read(reader, tmp_path, options, message):
    missing = tmp_path / "never-read.txt"  # were it read first, the error would be "no such file"
    refuses(lambda: reader.ask(missing, QUESTION, **options), message)
    refuses(lambda: reader.ask_many([(missing, QUESTION)], **options), message)
    refuses(lambda: reader.ask_many([], **options), message)  # even with nothing to answer


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (lambda missing: "not pairs", "pairs must be a list of (document, question) pairs, not str"),
        (lambda missing: iter([(missing, QUESTION)]), "pairs must be a list of (document, question) pairs, not"),
        (lambda missing: {missing: QUESTION}, "pairs must be a list of (document, question) pairs, not dict"),
        (lambda missing: [(missing, QUESTION), (TEXT,)], "pairs[1] must be a (document, question) pair, not tuple"),
        (lambda missing: [(missing, QUESTION), "Where?"], "pairs[1] must be a (document, question) pair, not str"),
        (lambda missing: [(missing, QUESTION, 3)], "pairs[0] must be a (document, question) pair, not tuple"),
        (lambda missing: [(missing, QUESTION), (3, QUESTION)], "the document of pairs[1] must be a str (the text)"),
        (lambda missing: [(missing, QUESTION), (TEXT, 3)], "the question of pairs[1] must be a str, not int"),
        (lambda missing: [(missing, QUESTION), (TEXT, "")], "the question of pairs[1] is empty"),
    ],
)
def test_wrong_batches_are_refused_before_any_document_is_read(reader, tmp_path, pairs, message):
    missing = tmp_path / "never-read.txt"  # were it read first, the error would be "no such file"
    refuses(lambda: reader.ask_many(pairs(missing)), message)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"model": 3}, "model must be a name or a folder (a str or a pathlib.Path) or None, not int"),
        ({"model": ""}, "model is empty"),
        ({"model": FileName("")}, "model is not a usable path: ''"),
        ({"device": "tpu"}, "device must be one of auto, cpu, gpu, not 'tpu'"),
        ({"device": None}, "device must be one of auto, cpu, gpu, not None"),
        ({"colour": 3}, "unknown option: colour (the options are seq_len, query_len, doc_stride"),
        ({"ranked": False}, "unknown option: ranked"),
        ({"max_windows": -1}, "max_windows from open_reader must be between 0 and 10,000,000, not -1"),
        ({"top_k": 0}, "top_k from open_reader must be between 1 and 100, not 0"),
        ({"seq_len": 8}, "seq_len from open_reader must be between 16 and 4,096, not 8"),
        ({"batch_size": "4"}, "batch_size from open_reader must be a whole number, not '4'"),
    ],
)
def test_open_reader_refuses_wrong_arguments_before_a_model_is_loaded(arguments, message):
    # "no-such-model" would be a ModelError: the arguments are checked first.
    refuses(lambda: open_reader(**{"model": "no-such-model", **arguments}), message)


def test_an_unknown_model_is_still_a_model_error():
    with pytest.raises(ModelError, match="no model named"):
        open_reader("no-such-model")


def test_stop_takes_an_event_anything_with_is_set_or_a_function(reader):
    class Flag:  # as a multiprocessing.Event
        def is_set(self) -> bool:
            return True

    event = threading.Event()
    event.set()
    for stop in (event, Flag(), lambda: True):
        with pytest.raises(Cancelled):
            reader.ask(TEXT, QUESTION, max_windows=0, stop=stop)
    assert reader.ask(TEXT, QUESTION, stop=threading.Event())["answers"]  # not set: not stopped


# -- closing ------------------------------------------------------------------------------------------


def test_a_reader_closed_by_its_with_block_lets_go_of_its_model(tiny_bert):
    with open_reader(tiny_bert, device="cpu") as reader:
        assert reader.ask(TEXT, QUESTION)["answers"]
        engine = weakref.ref(reader.engine)
        session = weakref.ref(reader.engine.model)
    assert reader.closed
    gc.collect()
    assert engine() is None and session() is None  # the onnxruntime session went with them
    for use in (
        lambda: reader.ask(TEXT, QUESTION),
        lambda: reader.predict(TEXT, QUESTION),
        lambda: reader.ask_many([(TEXT, QUESTION)]),
        lambda: reader.model,
    ):
        with pytest.raises(Closed, match=re.escape("this reader is closed: open another with open_reader()")):
            use()
    reader.close()  # twice is harmless


def test_a_reader_closes_when_its_block_raises(tiny_bert):
    with pytest.raises(InputError), open_reader(tiny_bert, device="cpu") as reader:
        reader.ask(TEXT, 42)
    assert reader.closed


def test_a_library_checks_its_arguments_and_closes_only_the_reader_it_opened(reader, tiny_bert, tmp_path):
    index = tmp_path / "library.sqlite3"
    refuses(lambda: open_library(3), "path must be a str or a pathlib.Path, not int")
    refuses(lambda: open_library(index, reader="reader"), "reader must be a Reader or None, not str")
    refuses(lambda: open_library(index, model=tiny_bert, reader=reader), "open_library takes a model or a reader")
    refuses(lambda: open_library(index, device="tpu"), "device must be one of auto, cpu, gpu, not 'tpu'")
    (tmp_path / "shelf").mkdir()
    (tmp_path / "shelf" / "curie.txt").write_text(TEXT, encoding="utf-8")
    with open_library(index, reader=reader) as library:
        for call, message in [
            (lambda: library.add(3), "path must be a str or a pathlib.Path, not int"),
            (lambda: library.add(""), "path is not a usable path: ''"),
            (lambda: library.add(tmp_path / "shelf", on_progress=3), "on_progress must be a function or None"),
            (lambda: library.update(stop=3), "stop must be a threading.Event or a function"),
            (lambda: library.remove(None), "path must be a str or a pathlib.Path, not NoneType"),
            (lambda: library.documents(folder=3), "folder must be a str or a pathlib.Path, not int"),
            (lambda: library.ask(3), "question must be a str, not int"),
            (lambda: library.ask("Where?", top_k=0), "top_k from the call must be between 1 and 100, not 0"),
            (lambda: library.ask("Where?", folder=5), "folder must be a str or a pathlib.Path, not int"),
            (lambda: library.get_embedding(3), "texts must be a str or a list of str, not int"),
            (lambda: library.get_embedding(["a", 3]), "texts[1] must be a str, not int"),
        ]:
            refuses(call, message)
        assert library.documents() == []  # nothing was added by the refused calls
        assert library.add(str(tmp_path / "shelf"))["documents"] == 1  # a library's str is a path
    with pytest.raises(Closed, match="this library is closed"):
        library.ask("Where was she born?")
    library.close()
    assert not reader.closed and reader.ask(TEXT, QUESTION)["answers"]  # given, so left open
    with open_library(index, model=tiny_bert, device="cpu") as owning:
        own_reader = owning.reader
        assert [d["name"] for d in owning.documents()] == ["curie.txt"]
        assert owning.ask(QUESTION)["question"] == QUESTION
    assert own_reader.closed  # opened by the library, closed with it
    with pytest.raises(Closed, match="reader is closed"):
        open_library(index, reader=own_reader)
