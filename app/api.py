"""The Python API, and the one front end over the engine: the command line's ``ask`` and the local
server answer through a ``Reader`` too.

    from pathlib import Path
    from reading_assistant.api import open_reader

    with open_reader("minilm-squad-int8", device="cpu") as reader:
        print(reader.ask(Path("report.pdf"), "Who signed it?", top_k=3)["answers"])

A document is its text (a ``str`` is always text, never taken for a file's name, so a program can
pass any text it was given), a file (a ``pathlib.Path`` or any ``os.PathLike``) or a ``Document``.
``ask`` returns exactly the dictionary ``reading-assistant ask --json`` prints; ``ask_many``
answers a batch; both take ``on_progress(done, total)`` and ``stop`` (a ``threading.Event`` or
any callable returning True) for long jobs, and raise ``Cancelled`` when stopped. A reader reads
as ``ask`` does (``EARLY_ANSWERS``: the windows most relevant to the question first, the first 24
of them); what is said per call (``top_k``, ``max_windows``, ``max_answer_len``) goes over what
was said when it was opened.

Every argument is checked when a call begins, before anything is read: a wrong type or a value out
of range raises ``InputError`` naming the argument. A reader (and a library) holds its model until
``close()`` or the end of its ``with`` block; used after that it raises ``Closed``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from .core.documents import Document, load_document, text_document
from .core.documents.load_options import LoadOptions
from .core.embedding import Embedder, open_embedder
from .core.engine import QAEngine, open_engine
from .core.errors import Cancelled, InputError, ModelError, ReadingAssistantError
from .core.library import IndexProgress, Library, LibraryPrediction
from .core.model_store import list_models, resolve_model
from .core.options import DEVICES, EARLY_ANSWERS, EARLY_WINDOWS, LIMITS, Choices, check_number
from .core.reading import Prediction

__all__ = [
    "Cancelled",
    "Closed",
    "InputError",
    "LibraryReader",
    "ModelError",
    "Reader",
    "ReadingAssistantError",
    "list_models",
    "open_library",
    "open_reader",
]

DocumentSource = str | os.PathLike | Document
PathArgument = str | os.PathLike
StopFlag = threading.Event | Callable[[], bool] | None
ProgressCallback = Callable[[int, int], None] | None
IndexCallback = Callable[[IndexProgress], None] | None
# The longest path accepted: no system opens a longer one.
LONGEST_PATH = 4096
# The longest question: far past any model's question budget (query_len is at most 4,096 tokens).
LONGEST_QUESTION = 100_000
# What open_reader may be told besides max_windows: the command line's window options.
READER_OPTIONS = ("seq_len", "query_len", "doc_stride", "max_answer_len", "batch_size", "top_k")


class Closed(ReadingAssistantError):
    """A reader or a library used after ``close()``."""


# -- the checks every call makes on entry -------------------------------------------------------


def wrong_type(argument: str, wanted: str, value: object) -> InputError:
    return InputError(f"{argument} must be {wanted}, not {type(value).__name__}")


def checked_text(value: object, argument: str, longest: int = LONGEST_QUESTION) -> str:
    """A ``str`` with something in it, at most ``longest`` characters long."""
    if not isinstance(value, str):
        raise wrong_type(argument, "a str", value)
    if not value.strip():
        raise InputError(f"{argument} is empty")
    if len(value) > longest:
        raise InputError(f"{argument} is {len(value):,} characters long, more than the {longest:,} accepted")
    return value


def checked_path(value: object, argument: str) -> Path:
    """A path given as a ``str`` or an ``os.PathLike`` (``~`` is the home folder)."""
    if not isinstance(value, str | os.PathLike):
        raise wrong_type(argument, "a str or a pathlib.Path", value)
    try:
        path = os.fsdecode(value)
    except TypeError:  # __fspath__ gave something other than text or bytes
        raise wrong_type(argument, "a path", value) from None
    if not path.strip() or "\x00" in path or len(path) > LONGEST_PATH:
        raise InputError(f"{argument} is not a usable path: {path[:200]!r}")
    try:
        return Path(path).expanduser()
    except RuntimeError:  # ~someone with no home folder
        raise InputError(f"{argument} is not a usable path: {path[:200]!r}") from None


def optional_path(value: object, argument: str) -> Path | None:
    return None if value is None else checked_path(value, argument)


def checked_source(source: object, argument: str = "document") -> str | Path | Document:
    """A document as given: its text (any ``str``), its file (``os.PathLike``) or a ``Document``."""
    if isinstance(source, str | Document):
        return source
    if isinstance(source, os.PathLike):
        return checked_path(source, argument)
    raise wrong_type(argument, "a str (the text), a pathlib.Path (a file) or a Document", source)


def as_document(
    source: DocumentSource, argument: str = "document", should_stop: Callable[[], bool] | None = None
) -> Document:
    """The document: a ``str`` is its text, a path (``os.PathLike``) its file, a ``Document`` itself;
    reading it stops when ``should_stop`` says so."""
    source = checked_source(source, argument)
    if isinstance(source, Document):
        return source
    if isinstance(source, Path):
        return load_document(source, LoadOptions(should_stop=should_stop))
    return text_document(source, "the text", should_stop)


def stop_check(stop: object) -> Callable[[], bool] | None:
    """``stop`` as a function: a ``threading.Event`` (or anything with ``is_set``), a function, or None."""
    if stop is None:
        return None
    is_set = getattr(stop, "is_set", None)
    if callable(is_set):
        return is_set
    if callable(stop):
        return stop
    raise wrong_type("stop", "a threading.Event or a function returning True to stop", stop)


def checked_callback(value: object, argument: str) -> Callable | None:
    if value is not None and not callable(value):
        raise wrong_type(argument, "a function or None", value)
    return value


def checked_device(device: object) -> str:
    if not isinstance(device, str) or device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    return device


def checked_model(model: object) -> str | Path | None:
    """A model's name (``reading-assistant models list``) or folder; None is the bundled model."""
    if model is None or isinstance(model, os.PathLike):
        return optional_path(model, "model")
    if not isinstance(model, str):
        raise wrong_type("model", "a name or a folder (a str or a pathlib.Path) or None", model)
    return checked_text(model, "model", LONGEST_PATH)


class Reader:
    """A model opened once, asked many times; answers are the command line's JSON dictionaries.

    ``choices`` say how it reads unless a call says otherwise (None: the model's own);
    ``source`` names where they came from when one cannot be used.
    """

    def __init__(self, engine: QAEngine, choices: Choices = EARLY_ANSWERS, source: str = "open_reader") -> None:
        if not isinstance(engine, QAEngine):
            raise wrong_type("engine", "a QAEngine (open one with open_reader)", engine)
        if not isinstance(choices, Choices):
            raise wrong_type("choices", "a Choices", choices)
        engine.resolve(choices, checked_text(source, "source"))  # a bad choice is refused now, before any read
        self._engine: QAEngine | None = engine
        self.choices = choices

    @property
    def closed(self) -> bool:
        return self._engine is None

    @property
    def engine(self) -> QAEngine:
        if self._engine is None:
            raise Closed("this reader is closed: open another with open_reader()")
        return self._engine

    def close(self) -> None:
        """Let go of the model (its onnxruntime session goes with the last reference); closing twice is harmless."""
        self._engine = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    @property
    def model(self) -> str:
        return self.engine.name

    @property
    def device(self) -> str:
        return self.engine.device_name

    @property
    def placement(self) -> str:
        """Where the model's work runs, as measured: "GPU (CUDA), 100% of the model's work", "CPU"."""
        return self.engine.placement

    def choices_with(self, top_k: int | None, max_windows: int | None, max_answer_len: int | None) -> Choices:
        return Choices(top_k=top_k, max_windows=max_windows, max_answer_len=max_answer_len).over(self.choices)

    def checked_choices(
        self, engine: QAEngine, top_k: int | None, max_windows: int | None, max_answer_len: int | None, source: str
    ) -> Choices:
        """A call's choices over the reader's, each value's type and range checked on ``engine``."""
        choices = self.choices_with(top_k, max_windows, max_answer_len)
        engine.resolve(choices, checked_text(source, "source"))
        return choices

    def as_json(self, prediction: Prediction, seconds: float | None = None) -> dict:
        """One answer as ``ask --json`` prints it (the command line, the API and the server share it)."""
        return {
            "question": prediction.question,
            "answers": [{"text": a.text, "start": a.start, "end": a.end, "score": a.score} for a in prediction.answers],
            "no_answer_score": prediction.no_answer_score,
            "has_answer": prediction.has_answer,
            "model": self.model,
            "device": self.device,
            "placement": self.placement,
            "windows": prediction.windows,
            "seconds": round(prediction.seconds if seconds is None else seconds, 4),
        }

    def predict(
        self,
        document: DocumentSource,
        question: str,
        top_k: int | None = None,
        max_windows: int | None = None,
        max_answer_len: int | None = None,
        on_progress: ProgressCallback = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> Prediction:
        """The answers to one question about a document (its text as a ``str``, a ``Path`` or a
        ``Document``), as the engine gives them."""
        engine = self.engine
        choices = self.checked_choices(engine, top_k, max_windows, max_answer_len, source)
        question = checked_text(question, "question")
        on_progress, should_stop = checked_callback(on_progress, "on_progress"), stop_check(stop)
        return engine.ask(
            as_document(document, should_stop=should_stop),
            question,
            choices,
            on_progress=on_progress,
            should_stop=should_stop,
            source=source,
        )

    def ask(
        self,
        document: DocumentSource,
        question: str,
        top_k: int | None = None,
        max_windows: int | None = None,
        max_answer_len: int | None = None,
        on_progress: ProgressCallback = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> dict:
        """Answer one question about a document (its text as a ``str``, a ``Path`` or a ``Document``)."""
        started = time.perf_counter()
        prediction = self.predict(document, question, top_k, max_windows, max_answer_len, on_progress, stop, source)
        return self.as_json(prediction, time.perf_counter() - started)

    def ask_many(
        self,
        pairs: Sequence[tuple[DocumentSource, str]],
        top_k: int | None = None,
        max_windows: int | None = None,
        max_answer_len: int | None = None,
        on_progress: ProgressCallback = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> list[dict]:
        """Answer many (document, question) pairs at once, in their order; windows are batched across them."""
        engine = self.engine
        choices = self.checked_choices(engine, top_k, max_windows, max_answer_len, source)
        on_progress, should_stop = checked_callback(on_progress, "on_progress"), stop_check(stop)
        if not isinstance(pairs, Sequence) or isinstance(pairs, str | bytes):
            raise wrong_type("pairs", "a list of (document, question) pairs", pairs)
        for n, pair in enumerate(pairs):
            if not isinstance(pair, Sequence) or isinstance(pair, str | bytes) or len(pair) != 2:
                raise wrong_type(f"pairs[{n}]", "a (document, question) pair", pair)
            checked_source(pair[0], f"the document of pairs[{n}]")
            checked_text(pair[1], f"the question of pairs[{n}]")
        documents: dict[int, Document] = {}  # the same document object is loaded once
        items = []
        for document, question in pairs:
            if id(document) not in documents:
                documents[id(document)] = as_document(document, should_stop=should_stop)
            items.append((documents[id(document)], question))
        if not items:
            return []
        predictions = engine.ask_many(items, choices, on_progress=on_progress, should_stop=should_stop, source=source)
        return [self.as_json(p) for p in predictions]


def open_reader(
    model: str | os.PathLike | None = None,
    device: str = "auto",
    max_windows: int | None = EARLY_WINDOWS,
    **choices: int,
) -> Reader:
    """A reader on a model given by name (``reading-assistant models list``) or folder; None is the bundled one.

    ``choices`` are the command line's window options (``seq_len``, ``query_len``, ``doc_stride``,
    ``max_answer_len``, ``batch_size``, ``top_k``); each left out is the model's own. Close it (or
    open it in a ``with`` block) to let go of the model.
    """
    unknown = sorted(set(choices) - set(READER_OPTIONS))
    if unknown:
        raise InputError(f"unknown option: {', '.join(unknown)} (the options are {', '.join(READER_OPTIONS)})")
    wanted = Choices(max_windows=max_windows, **choices)
    for name, value in {"max_windows": max_windows, **choices}.items():
        if value is not None and name in LIMITS:
            check_number(name, value, "open_reader")  # before the model is loaded
    device = checked_device(device)
    folder = resolve_model(checked_model(model))
    return Reader(open_engine(folder, device), wanted.over(EARLY_ANSWERS))


class LibraryReader:
    """A reader's library, asked through a ``Reader``: the command line's ``library`` commands and
    ``ask --library``, and the server's library routes, answer through one.

        from reading_assistant.api import open_library
        with open_library() as library:
            library.add("~/Papers", on_progress=print)
            print(library.ask("Which solvent was used?")["answers"][0])

    ``close()`` closes the library, and the reader too when the library opened it (``owns_reader``).
    """

    def __init__(self, reader: Reader, library: Library, embedder: Embedder, owns_reader: bool = False) -> None:
        if not isinstance(reader, Reader):
            raise wrong_type("reader", "a Reader", reader)
        if not isinstance(library, Library):
            raise wrong_type("library", "a Library", library)
        self._parts: tuple[Reader, Library, Embedder] | None = (reader, library, embedder)
        self.owns_reader = owns_reader

    def opened(self) -> tuple[Reader, Library, Embedder]:
        if self._parts is None:
            raise Closed("this library is closed: open it again with open_library()")
        return self._parts

    @property
    def reader(self) -> Reader:
        return self.opened()[0]

    @property
    def library(self) -> Library:
        return self.opened()[1]

    @property
    def embedder(self) -> Embedder:
        return self.opened()[2]

    def close(self) -> None:
        """Close the library (and the reader it opened); closing twice is harmless."""
        if self._parts is None:
            return
        reader, library, _ = self._parts
        self._parts = None
        library.close()
        if self.owns_reader:
            reader.close()

    def __enter__(self) -> LibraryReader:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def add(self, path: PathArgument, on_progress: IndexCallback = None, stop: StopFlag = None) -> dict:
        """Add a folder or a file and index it (and whatever else waits) before returning."""
        path = checked_path(path, "path")
        progress, should_stop = checked_callback(on_progress, "on_progress"), stop_check(stop)
        folder = self.library.add(path)
        return {"folder": folder, **self.indexed(progress, should_stop)}

    def update(self, on_progress: IndexCallback = None, stop: StopFlag = None) -> dict:
        """Bring the index in line with the disk and index whatever waits."""
        return self.indexed(checked_callback(on_progress, "on_progress"), stop_check(stop))

    def indexed(self, on_progress: IndexCallback, should_stop: Callable[[], bool] | None) -> dict:
        library = self.library
        synced = library.sync(should_stop)
        for progress in library.index(should_stop):
            if on_progress is not None:
                on_progress(progress)
        counts = library.counts()
        return {
            "added": synced.added,
            "changed": synced.changed,
            "removed": synced.removed,
            "missing_folders": list(synced.missing_folders),
            "documents": counts["indexed"],
            "failed": counts["failed"],
            "passages": counts["passages"],
        }

    def remove(self, path: PathArgument) -> dict:
        return {"removed": self.library.remove(checked_path(path, "path"))}

    def documents(self, folder: PathArgument | None = None) -> list[dict]:
        return [asdict(d) for d in self.library.documents(self.within(folder))]

    def within(self, folder: object) -> str | None:
        """The library's name for a folder (its full path), or None for the whole library."""
        path = optional_path(folder, "folder")
        try:
            return None if path is None else str(path.resolve())
        except (OSError, RuntimeError) as error:  # a link that loops
            raise InputError(f"folder cannot be used: {error}") from None

    def ask(
        self,
        question: str,
        folder: PathArgument | None = None,
        top_k: int | None = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> dict:
        """Answer a question from the whole library (or one folder of it)."""
        return self.as_json(self.predict(question, folder, top_k, stop, source))

    def predict(
        self,
        question: str,
        folder: PathArgument | None = None,
        top_k: int | None = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> LibraryPrediction:
        reader, library, _ = self.opened()
        engine = reader.engine
        choices = reader.checked_choices(engine, top_k, None, None, source)
        question = checked_text(question, "question")
        return library.ask(engine, question, self.within(folder), choices, stop_check(stop))

    def as_json(self, prediction: LibraryPrediction) -> dict:
        return {
            "question": prediction.question,
            "answers": [
                {
                    "text": a.text,
                    "score": a.score,
                    "document": a.name,
                    "path": a.path,
                    "location": a.location,
                    "start": a.start,
                    "end": a.end,
                }
                for a in prediction.answers
            ],
            "no_answer_score": prediction.no_answer_score,
            "has_answer": prediction.has_answer,
            "passages": prediction.passages,
            "documents": prediction.documents,
            "model": self.reader.model,
            "device": self.reader.device,
            "seconds": round(prediction.seconds, 4),
        }

    def get_embedding(self, texts: str | Sequence[str]) -> list[list[float]]:
        """Each text's embedding (384 numbers of unit length; PaddleHub's ``get_embedding``)."""
        if isinstance(texts, str):
            texts = [texts]
        elif not isinstance(texts, Sequence) or isinstance(texts, bytes):
            raise wrong_type("texts", "a str or a list of str", texts)
        for n, text in enumerate(texts):
            if not isinstance(text, str):
                raise wrong_type(f"texts[{n}]", "a str", text)
        return self.embedder.embed(list(texts)).tolist()


def open_library(
    path: PathArgument | None = None,
    model: str | os.PathLike | None = None,
    device: str = "auto",
    reader: Reader | None = None,
) -> LibraryReader:
    """The reader's library (the one in the app's data folder unless ``path`` names another file),
    asked with a model given by name or folder (None: the bundled one), or through ``reader`` (one
    already open: its model and its choices serve the library too, and it stays open when the
    library closes)."""
    library_file = optional_path(path, "path")
    model = checked_model(model)
    device = checked_device(device)
    if reader is not None:
        if not isinstance(reader, Reader):
            raise wrong_type("reader", "a Reader or None", reader)
        if model is not None:
            raise InputError("open_library takes a model or a reader, not both")
        if reader.closed:
            raise Closed("reader is closed: open another with open_reader()")
    embedder = open_embedder(device=device)
    library = Library(library_file, embedder)
    try:
        owned = reader is None
        if reader is None:
            reader = Reader(open_engine(resolve_model(model), device), EARLY_ANSWERS)
    except BaseException:
        library.close()
        raise
    return LibraryReader(reader, library, embedder, owns_reader=owned)
