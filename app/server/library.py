"""The library routes: ``GET /library``, ``POST /library/add``, ``/library/remove``, ``/library/update``,
``/library/ask`` and ``/embedding``.

``Libraries`` holds the library behind them, opened on their first request (503 with the reason when
it cannot be, the other routes unaffected); indexing runs on a server thread of its own, one run at a
time, and stops when the server does. ``library_routes`` gives their routes, ``LIBRARY_PATHS`` their
entries in the OpenAPI document, ``default_library`` the library they open unless told otherwise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..api import LONGEST_PATH, LibraryReader, Reader, open_library
from ..core.errors import Cancelled, InputError, ReadingAssistantError
from ..core.library import Library
from .common import SOURCE, Busy, Service, as_whole_number, checked_question, json_body, operation, request_stop

MAX_TEXTS, MAX_TEXT_CHARS = 256, 2**20  # what one /embedding request may hold
INDEXING_STOP_WAIT_S = 30.0
RETRY_S = 10.0  # a library that could not be opened is tried again after this long

TEXT, FULL_PATH = {"type": "string"}, {"type": "string", "description": "a full path on the server's machine"}
STARTED = (
    '(202) {"folder"?: the path as kept, "indexing": {"running", "progress", "error"}}: it goes on in the background'
)
LIBRARY_PATHS = {
    "/library": {
        "get": operation(
            "The library (opened on the first library request; 503 with the reason when it cannot be)",
            '{"library": its file, "notice", "folders": [...], "documents": [{"path", "name", "folder", "state", '
            '"error", "passages", "embedded", ...}], "counts": {"waiting", "indexed", "failed", "passages", '
            '"embedded"}, "indexing": {"running": bool, "progress": {"stage", "done", "total", '
            '"passages_per_second", "seconds_left", "name", "failed"} or null, "error": the last run\'s or null}}',
            errors=(),
        )
    },
    "/library/add": {"post": operation("Add a folder or file and index it", STARTED, {"path": FULL_PATH}, 202)},
    "/library/remove": {
        "post": operation("Take a folder or file out of the library", '{"removed": documents}', {"path": FULL_PATH})
    },
    "/library/update": {
        "post": operation("Notice new, changed, moved and gone files; index what waits", STARTED, status=202)
    },
    "/library/ask": {
        "post": operation(
            "Answer a question from the whole library (or one folder of it), within the time limit",
            '{"question", "answers": [{"text", "score", "document", "path", "location", "start", "end"}], '
            '"no_answer_score", "has_answer", "passages", "documents", "model", "device", "seconds"}',
            {"question": TEXT, "folder": FULL_PATH, "top_k": {"type": "integer", "minimum": 1, "maximum": 100}},
        )
    },
    "/embedding": {
        "post": operation(
            f"Each text's embedding (PaddleHub's get_embedding): at most {MAX_TEXTS} texts, "
            f"{MAX_TEXT_CHARS} characters in all (413 beyond)",
            '{"embeddings": [[384 numbers of unit length; zeros for a text without words], ...]}',
            {"texts": {"oneOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1, "maxItems": MAX_TEXTS}]}},
            errors=(400, 413),
        )
    },
}


class Libraries:
    """The library behind the library routes, opened on the first of them.

    Listing and changing it go through one connection, one call at a time; questions through one of
    their own, in turn with the other questions (``Service.in_turn``); indexing, which may take far
    longer than a request may, on a server thread with its own connection, one run at a time (a run
    asked for meanwhile follows it), stopped by ``close``.
    """

    def __init__(self, opener: Callable[[], LibraryReader], service: Service) -> None:
        self.opener, self.service = opener, service
        self.lock = threading.Lock()  # opening, and the requests' connection
        self.state = threading.Lock()  # running and again
        self.opened: LibraryReader | None = None
        self.asking: LibraryReader | None = None
        self.stop = threading.Event()
        self.running = self.again = False
        self.thread: threading.Thread | None = None
        self.progress = self.error = None
        self.failure, self.retry_at = "", 0.0

    def call(self, work: Callable[[LibraryReader], object]):
        """``work(library)``; 503 with the reason when the library cannot be opened."""
        with self.lock:
            if self.stop.is_set():
                raise Busy("the server is shutting down")
            if self.opened is None:
                if time.monotonic() < self.retry_at:  # each try loads the models: not on every request
                    raise Busy(self.failure)
                try:
                    opened = self.opener()
                except (ReadingAssistantError, OSError) as error:
                    reason = error.strerror if isinstance(error, OSError) and error.strerror else error  # no path
                    self.failure, self.retry_at = f"the library cannot be opened: {reason}", time.monotonic() + RETRY_S
                    raise Busy(self.failure) from None
                questions = Library(opened.library.path, opened.embedder, verify=False)
                self.opened, self.asking = opened, LibraryReader(opened.reader, questions, opened.embedder)
            try:
                return work(self.opened)
            except OSError as error:  # a path the system refuses (too long a name, no permission)
                raise InputError(f"that path cannot be used: {error.strerror or error}") from None

    def ask(self, question: str, folder: str | None, top_k: int | None, started: float, stop: threading.Event) -> dict:
        self.call(lambda _: None)
        return self.service.in_turn(
            started, lambda should_stop: self.asking.ask(question, folder, top_k, should_stop, SOURCE), stop
        )

    def embed(self, texts: list[str], started: float, stop: threading.Event) -> list[list[float]]:
        embedder = self.call(lambda opened: opened.embedder)
        return self.service.in_turn(
            started, lambda should_stop: embedder.embed(texts, should_stop=should_stop).tolist(), stop
        )

    def status(self) -> dict:
        def listed(opened: LibraryReader) -> dict:
            library = opened.library
            return {
                "library": str(library.path),
                "notice": library.notice,  # a damaged index was set aside
                "folders": library.folders(),
                "documents": opened.documents(),
                "counts": library.counts(),
                "indexing": self.indexing(),
            }

        return self.call(listed)

    def indexing(self) -> dict:
        progress = self.progress and asdict(self.progress)
        if progress:
            progress["passages_per_second"] = round(progress["passages_per_second"], 1)
            progress["seconds_left"] = progress["seconds_left"] and round(progress["seconds_left"], 1)
        return {"running": self.running, "progress": progress, "error": self.error}

    def start_indexing(self) -> None:
        """Sync with the disk and index what waits, on the indexing thread (once more after a running one)."""
        with self.state:
            if self.running:
                self.again = True
                return
            self.running, self.again, self.error = True, False, None
            opened = self.opened
            self.thread = threading.Thread(target=self.index, args=(opened,), name="library-indexing", daemon=True)
            self.thread.start()

    def index(self, opened: LibraryReader) -> None:
        library = None
        try:
            library = Library(opened.library.path, opened.embedder, verify=False)  # this thread's connection
            while True:
                library.sync(self.stop.is_set)
                for progress in library.index(self.stop.is_set):
                    self.progress = progress
                with self.state:
                    if not self.again:
                        return
                    self.again = False
        except Cancelled:
            pass
        except Exception as error:  # said in GET /library (IndexerBusy: the window is indexing it)
            self.error = str(error) or type(error).__name__
            if not isinstance(error, (ReadingAssistantError, OSError)):
                raise
        finally:
            with self.state:
                self.running = False
            if library is not None:
                library.close()

    def close(self) -> None:
        """Stop indexing (what it did is kept) and close the library."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(INDEXING_STOP_WAIT_S)
        with self.lock:
            for opened in (self.asking, self.opened):
                if opened is not None:
                    opened.close()
            self.opened = self.asking = None


def full_path(value: object, field: str) -> str:
    """A path a request names: a full one (the server has no current folder of the caller's)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"give '{field}': the full path of a folder or file on this machine")
    if "\x00" in value or len(value) > LONGEST_PATH or not Path(value).expanduser().is_absolute():
        raise InputError(f"'{field}' must be the full path of a folder or file on this machine, not {value[:200]!r}")
    return value


def default_library(reader: Reader) -> Callable[[], LibraryReader]:
    """The reader's library, asked through the server's own reader (its model, device and options)."""
    device = "cpu" if reader.device == "CPU" else "auto"
    return lambda: open_library(device=device, reader=reader)


def library_routes(libraries: Libraries) -> list[Route]:
    """The library routes, answering from ``libraries``."""

    async def library_status(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(libraries.status))

    async def library_add(request: Request) -> JSONResponse:
        path = full_path((await json_body(request)).get("path"), "path")

        def add(opened: LibraryReader) -> str:
            kept = opened.library.add(Path(path).expanduser())
            libraries.start_indexing()
            return kept

        kept = await run_in_threadpool(libraries.call, add)
        return JSONResponse({"folder": kept, "indexing": libraries.indexing()}, status_code=202)

    async def library_remove(request: Request) -> JSONResponse:
        path = full_path((await json_body(request)).get("path"), "path")
        return JSONResponse(await run_in_threadpool(libraries.call, lambda opened: opened.remove(path)))

    async def library_update(request: Request) -> JSONResponse:
        await run_in_threadpool(libraries.call, lambda _: libraries.start_indexing())
        return JSONResponse({"indexing": libraries.indexing()}, status_code=202)

    async def library_ask(request: Request) -> JSONResponse:
        payload = await json_body(request)
        question, folder, top_k = payload.get("question"), payload.get("folder"), payload.get("top_k")
        checked_question(question)
        folder = None if folder is None else full_path(folder, "folder")
        top_k = None if top_k is None else as_whole_number("top_k", top_k)
        started, stop = time.monotonic(), request_stop(request)
        return JSONResponse(await run_in_threadpool(libraries.ask, question, folder, top_k, started, stop))

    async def embedding(request: Request) -> JSONResponse:
        texts = (await json_body(request)).get("texts")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(text, str) for text in texts):
            raise InputError("'texts' must be a text or a list of texts")
        if len(texts) > MAX_TEXTS:
            raise HTTPException(413, f"at most {MAX_TEXTS} texts at a time, not {len(texts)}")
        if sum(map(len, texts)) > MAX_TEXT_CHARS:
            raise HTTPException(413, f"the texts are longer than {MAX_TEXT_CHARS} characters in all")
        embeddings = await run_in_threadpool(libraries.embed, texts, time.monotonic(), request_stop(request))
        return JSONResponse({"embeddings": embeddings})

    return [
        Route("/library", library_status, methods=["GET"]),
        Route("/library/add", library_add, methods=["POST"]),
        Route("/library/remove", library_remove, methods=["POST"]),
        Route("/library/update", library_update, methods=["POST"]),
        Route("/library/ask", library_ask, methods=["POST"]),
        Route("/embedding", embedding, methods=["POST"]),
    ]
