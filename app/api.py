"""The Python API, and the one front end over the engine: the command line's ``ask`` and the local
server answer through a ``Reader`` too.

    from reading_assistant.api import open_reader
    reader = open_reader("minilm-squad-int8", device="cpu")
    print(reader.ask("report.pdf", "Who signed it?", top_k=3)["answers"])

``ask`` returns exactly the dictionary ``reading-assistant ask --json`` prints; ``ask_many``
answers a batch; both take ``on_progress(done, total)`` and ``stop`` (a ``threading.Event`` or
any callable returning True) for long jobs, and raise ``Cancelled`` when stopped. A reader reads
as ``ask`` does (``EARLY_ANSWERS``: the windows most relevant to the question first, the first 24
of them); what is said per call (``top_k``, ``max_windows``, ``max_answer_len``) goes over what
was said when it was opened.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from .core.documents import Document, load_document, text_document
from .core.embedding import Embedder, open_embedder
from .core.engine import QAEngine, open_engine
from .core.errors import Cancelled, InputError, ModelError, ReadingAssistantError
from .core.library import IndexProgress, Library, LibraryPrediction
from .core.model_store import list_models, resolve_model
from .core.options import EARLY_ANSWERS, EARLY_WINDOWS, Choices
from .core.reading import Prediction

__all__ = [
    "Cancelled",
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
StopFlag = threading.Event | Callable[[], bool] | None
ProgressCallback = Callable[[int, int], None] | None
IndexCallback = Callable[[IndexProgress], None] | None
# A str this long or with a line break is text, never a file name.
LONGEST_PATH = 4096


def as_document(source: DocumentSource) -> Document:
    """A path (``Path``, or a one-line ``str`` naming an existing file) is loaded; other text is the document."""
    if isinstance(source, Document):
        return source
    if isinstance(source, os.PathLike):
        return load_document(Path(source))
    if not isinstance(source, str):
        raise InputError(f"a document is text, a path or a Document, not {type(source).__name__}")
    if len(source) < LONGEST_PATH and "\n" not in source and source.strip():
        try:
            if Path(source).expanduser().is_file():
                return load_document(Path(source).expanduser())
        except (OSError, ValueError):
            pass  # not a usable path: text
    return text_document(source, "the text")


def _stop_check(stop: StopFlag) -> Callable[[], bool] | None:
    if stop is None:
        return None
    if isinstance(stop, threading.Event):
        return stop.is_set
    if callable(stop):
        return stop
    raise InputError("stop must be a threading.Event or a function returning True to stop")


def _checked_question(question: object, what: str = "the question") -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{what} is empty")
    return question


class Reader:
    """A model opened once, asked many times; answers are the command line's JSON dictionaries.

    ``choices`` say how it reads unless a call says otherwise (None: the model's own);
    ``source`` names where they came from when one cannot be used.
    """

    def __init__(self, engine: QAEngine, choices: Choices = EARLY_ANSWERS, source: str = "open_reader") -> None:
        engine.resolve(choices, source)  # a bad choice is refused now, before any document is read
        self.engine = engine
        self.choices = choices

    @property
    def model(self) -> str:
        return self.engine.name

    @property
    def device(self) -> str:
        return self.engine.device_name

    def choices_with(self, top_k: int | None, max_windows: int | None, max_answer_len: int | None) -> Choices:
        return Choices(top_k=top_k, max_windows=max_windows, max_answer_len=max_answer_len).over(self.choices)

    def as_json(self, prediction: Prediction, seconds: float | None = None) -> dict:
        """One answer as ``ask --json`` prints it (the command line, the API and the server share it)."""
        return {
            "question": prediction.question,
            "answers": [{"text": a.text, "start": a.start, "end": a.end, "score": a.score} for a in prediction.answers],
            "no_answer_score": prediction.no_answer_score,
            "has_answer": prediction.has_answer,
            "model": self.model,
            "device": self.device,
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
        """The answers to one question about a document (text, a path or a ``Document``), as the engine gives them."""
        question = _checked_question(question)
        document = as_document(document)
        return self.engine.ask(
            document,
            question,
            self.choices_with(top_k, max_windows, max_answer_len),
            on_progress=on_progress,
            should_stop=_stop_check(stop),
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
        """Answer one question about a document (text, a path or a ``Document``)."""
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
        documents: dict[int, Document] = {}
        items = []
        for document, question in pairs:
            question = _checked_question(question, "a question")
            key = id(document)  # the same document object is loaded once
            if key not in documents:
                documents[key] = as_document(document)
            items.append((documents[key], question))
        if not items:
            return []
        predictions = self.engine.ask_many(
            items,
            self.choices_with(top_k, max_windows, max_answer_len),
            on_progress=on_progress,
            should_stop=_stop_check(stop),
            source=source,
        )
        return [self.as_json(p) for p in predictions]


def open_reader(
    model: str | os.PathLike | None = None,
    device: str = "auto",
    max_windows: int = EARLY_WINDOWS,
    **choices: int,
) -> Reader:
    """A reader on a model given by name (``reading-assistant models list``) or folder; None is the bundled one.

    ``choices`` are the command line's window options (``seq_len``, ``query_len``, ``doc_stride``,
    ``max_answer_len``, ``batch_size``, ``top_k``); each left out is the model's own.
    """
    try:
        wanted = Choices(max_windows=max_windows, **choices)
    except TypeError as error:
        raise InputError(f"unknown option: {error}") from None
    return Reader(open_engine(resolve_model(model), device), wanted.over(EARLY_ANSWERS))


class LibraryReader:
    """A reader's library, asked through a ``Reader``: the command line's ``library`` commands and
    ``ask --library``, and the server's library routes, answer through one.

        from reading_assistant.api import open_library
        library = open_library()
        library.add("~/Papers", on_progress=print)
        print(library.ask("Which solvent was used?")["answers"][0])
    """

    def __init__(self, reader: Reader, library: Library, embedder: Embedder) -> None:
        self.reader = reader
        self.library = library
        self.embedder = embedder

    def close(self) -> None:
        self.library.close()

    def add(self, path: str | os.PathLike, on_progress: IndexCallback = None, stop: StopFlag = None) -> dict:
        """Add a folder or a file and index it (and whatever else waits) before returning."""
        folder = self.library.add(Path(path).expanduser())
        return {"folder": folder, **self.update(on_progress, stop)}

    def update(self, on_progress: IndexCallback = None, stop: StopFlag = None) -> dict:
        """Bring the index in line with the disk and index whatever waits."""
        should_stop = _stop_check(stop)
        synced = self.library.sync(should_stop)
        for progress in self.library.index(should_stop):
            if on_progress is not None:
                on_progress(progress)
        counts = self.library.counts()
        return {
            "added": synced.added,
            "changed": synced.changed,
            "removed": synced.removed,
            "missing_folders": list(synced.missing_folders),
            "documents": counts["indexed"],
            "failed": counts["failed"],
            "passages": counts["passages"],
        }

    def remove(self, path: str | os.PathLike) -> dict:
        return {"removed": self.library.remove(Path(path).expanduser())}

    def documents(self, folder: str | os.PathLike | None = None) -> list[dict]:
        within = None if folder is None else str(Path(folder).expanduser().resolve())
        return [asdict(d) for d in self.library.documents(within)]

    def ask(
        self,
        question: str,
        folder: str | os.PathLike | None = None,
        top_k: int | None = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> dict:
        """Answer a question from the whole library (or one folder of it)."""
        return self.as_json(self.predict(question, folder, top_k, stop, source))

    def predict(
        self,
        question: str,
        folder: str | os.PathLike | None = None,
        top_k: int | None = None,
        stop: StopFlag = None,
        source: str = "the call",
    ) -> LibraryPrediction:
        question = _checked_question(question)
        within = None if folder is None else str(Path(folder).expanduser().resolve())
        choices = self.reader.choices_with(top_k, None, None)
        self.reader.engine.resolve(choices, source)
        return self.library.ask(self.reader.engine, question, within, choices, _stop_check(stop))

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
        batch = [texts] if isinstance(texts, str) else list(texts)
        if not all(isinstance(text, str) for text in batch):
            raise InputError("texts are strings")
        return self.embedder.embed(batch).tolist()


def open_library(
    path: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
    device: str = "auto",
    reader: Reader | None = None,
) -> LibraryReader:
    """The reader's library (the one in the app's data folder unless ``path`` names another file),
    asked with a model given by name or folder (None: the bundled one), or through ``reader`` (one
    already open: its model and its choices serve the library too)."""
    embedder = open_embedder(device=device)
    library = Library(None if path is None else Path(path).expanduser(), embedder)
    if reader is None:
        reader = Reader(open_engine(resolve_model(model), device), EARLY_ANSWERS)
    return LibraryReader(reader, library, embedder)
