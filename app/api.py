"""The Python API: the command line's answers, from a script.

    from .api import open_reader
    reader = open_reader("minilm-squad-int8", device="cpu")
    print(reader.ask("report.pdf", "Who signed it?", top_k=3)["answers"])

``ask`` returns exactly the dictionary ``reading-assistant ask --json`` prints; ``ask_many``
answers a batch; both take ``on_progress(done, total)`` and ``stop`` (a ``threading.Event`` or
any callable returning True) for long jobs, and raise ``Cancelled`` when stopped.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .core.documents import Document, load_document, text_document
from .core.engine import Prediction, QAEngine, open_engine
from .core.errors import Cancelled, InputError, ModelError, ReadingAssistantError
from .core.model_store import list_models, resolve_model
from .core.options import EARLY_WINDOWS, Choices

__all__ = [
    "Cancelled",
    "InputError",
    "ModelError",
    "Reader",
    "ReadingAssistantError",
    "list_models",
    "open_reader",
    "prediction_json",
]

DocumentSource = str | os.PathLike | Document
StopFlag = threading.Event | Callable[[], bool] | None
ProgressCallback = Callable[[int, int], None] | None
# A str this long or with a line break is text, never a file name.
LONGEST_PATH = 4096


def prediction_json(prediction: Prediction, engine: QAEngine, seconds: float | None = None) -> dict:
    """One answer as ``ask --json`` prints it (the CLI, the API and the server share this dictionary)."""
    return {
        "question": prediction.question,
        "answers": [{"text": a.text, "start": a.start, "end": a.end, "score": a.score} for a in prediction.answers],
        "no_answer_score": prediction.no_answer_score,
        "has_answer": prediction.has_answer,
        "model": engine.name,
        "device": engine.device_name,
        "windows": prediction.windows,
        "seconds": round(prediction.seconds if seconds is None else seconds, 4),
    }


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


class Reader:
    """A model opened once, asked many times; answers are the CLI's JSON dictionaries."""

    def __init__(self, engine: QAEngine, max_windows: int = EARLY_WINDOWS) -> None:
        self.engine = engine
        self.max_windows = max_windows

    @property
    def model(self) -> str:
        return self.engine.name

    @property
    def device(self) -> str:
        return self.engine.device_name

    def _options(self, top_k: int | None, max_windows: int | None):
        """As ``ask`` on the command line: the most relevant windows first, up to ``max_windows`` (0: all)."""
        changes: dict[str, object] = {"ranked": True}
        changes["max_windows"] = self.max_windows if max_windows is None else max_windows
        if top_k is not None:
            changes["top_k"] = top_k
        return self.engine.options_with(**changes)

    def ask(
        self,
        document: DocumentSource,
        question: str,
        top_k: int | None = None,
        max_windows: int | None = None,
        on_progress: ProgressCallback = None,
        stop: StopFlag = None,
    ) -> dict:
        """Answer one question about a document (text, a path or a ``Document``)."""
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty")
        text = as_document(document).text
        options = self._options(top_k, max_windows)
        started = time.perf_counter()
        prediction = self.engine.ask(text, question, options, on_progress=on_progress, should_stop=_stop_check(stop))
        return prediction_json(prediction, self.engine, time.perf_counter() - started)

    def ask_many(
        self,
        pairs: Sequence[tuple[DocumentSource, str]],
        top_k: int | None = None,
        max_windows: int | None = None,
        on_progress: ProgressCallback = None,
        stop: StopFlag = None,
    ) -> list[dict]:
        """Answer many (document, question) pairs at once, in their order; windows are batched across them."""
        documents: dict[int, str] = {}
        items = []
        for source, question in pairs:
            if not isinstance(question, str) or not question.strip():
                raise InputError("a question is empty")
            key = id(source)  # the same document object is loaded once
            if key not in documents:
                documents[key] = as_document(source).text
            items.append((documents[key], question))
        if not items:
            return []
        options = self._options(top_k, max_windows)
        predictions = self.engine.ask_many(items, options, on_progress=on_progress, should_stop=_stop_check(stop))
        return [prediction_json(p, self.engine) for p in predictions]


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
        wanted = Choices(**choices)
    except TypeError as error:
        raise InputError(f"unknown option: {error}") from None
    return Reader(open_engine(resolve_model(model), device, wanted, source="open_reader"), max_windows)
