"""What the guard, the question routes and the library routes share: the errors and their JSON shape
(``{"error": "..."}``), ``Service`` (the reader behind the routes: one piece of work at a time, a
bounded queue of requests waiting their turn, each within the time limit and stopped when its client
goes) and ``Busy`` (503), the checks on a request's body and fields, and ``operation``, the OpenAPI
entry of a route that takes a JSON object.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..api import Reader
from ..core.documents import Document
from ..core.errors import Cancelled, InputError

OPTION_FIELDS = ("top_k", "max_windows", "max_answer_len")
SOURCE = "the request"
# The scope key of a request's stop flag (a threading.Event): set when its client goes or the server stops.
STOP_KEY = "reading_assistant.stop"
QUEUE_POLL_S = 0.1  # how often a waiting request looks whether its client is still there

StopCheck = Callable[[], bool]
# A document made in the engine's turn (loading an upload can take long, and is stopped with the rest).
DocumentMaker = Callable[[StopCheck], Document]


def operation(summary: str, returns: str, fields: dict | None = None, status: int = 200, errors=(400,)) -> dict:
    """A library route's entry: a JSON object in (``fields``, the first required), ``returns`` out."""
    entry = {"summary": summary, "responses": {str(status): {"description": returns}}}
    for code in (*errors, 401, 403, 503):
        entry["responses"][str(code)] = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        }
    if fields:
        schema = {"type": "object", "required": list(fields)[:1], "properties": fields}
        entry["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    return entry


def error_response(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def request_stop(request: Request) -> threading.Event:
    """The request's stop flag (set by the guard's watcher when the client goes)."""
    return request.scope.get(STOP_KEY) or threading.Event()


class Busy(Exception):
    pass


class Turns:
    """The engine, one piece of work at a time; at most ``limit`` more wait, in order of arrival."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.condition = threading.Condition()
        self.waiting: deque[object] = deque()
        self.running = False

    def status(self) -> dict:
        with self.condition:
            return {"running": int(self.running), "waiting": len(self.waiting), "waiting_limit": self.limit}

    @contextlib.contextmanager
    def turn(self, should_stop: StopCheck) -> Iterator[None]:
        """This caller's turn; Busy when the queue is full, Cancelled when it must stop before its turn."""
        ticket = object()
        with self.condition:
            if (self.running or self.waiting) and len(self.waiting) >= self.limit:
                raise Busy(f"the server is busy: {len(self.waiting)} requests are waiting already; try again shortly")
            self.waiting.append(ticket)
            try:
                while self.running or self.waiting[0] is not ticket:
                    if should_stop():
                        raise Cancelled("stopped while waiting")
                    self.condition.wait(QUEUE_POLL_S)
            finally:
                self.waiting.remove(ticket)
                self.condition.notify_all()
            self.running = True
        try:
            yield
        finally:
            with self.condition:
                self.running = False
                self.condition.notify_all()


class Service:
    """The reader behind the routes: one piece of work at a time, each within the time limit."""

    def __init__(self, reader: Reader, timeout: float, waiting: int) -> None:
        self.reader = reader
        self.timeout = timeout
        self.turns = Turns(waiting)

    def answer(
        self, pairs: list[tuple[DocumentMaker, str]], options: dict, started: float, stop: threading.Event
    ) -> list[dict]:
        given = {name: as_whole_number(name, options[name]) for name in OPTION_FIELDS if options.get(name) is not None}
        for _, question in pairs:
            checked_question(question)

        def work(should_stop: StopCheck) -> list[dict]:
            documents = [(make(should_stop), question) for make, question in pairs]
            if len(documents) == 1:
                return [self.reader.ask(*documents[0], stop=should_stop, source=SOURCE, **given)]
            return self.reader.ask_many(documents, stop=should_stop, source=SOURCE, **given)

        return self.in_turn(started, work, stop)

    def in_turn(self, started: float, work: Callable[[StopCheck], object], stop: threading.Event):
        """``work(should_stop)`` once the work before it is done, all within the time limit; it stops
        when the time is up or ``stop`` is set (the client went, the server is stopping)."""
        deadline = started + self.timeout

        def should_stop() -> bool:
            return stop.is_set() or time.monotonic() > deadline

        try:
            with self.turns.turn(should_stop):
                return work(should_stop)
        except Cancelled:
            if stop.is_set():
                raise Busy("the request was stopped: its client went away or the server is stopping") from None
            raise Busy(f"the request took longer than {self.timeout:g} s, waiting its turn included") from None


def checked_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty")
    return question


def as_whole_number(name: str, value: object) -> int:
    if isinstance(value, str) and len(value) <= 20:  # a form field's text
        with contextlib.suppress(ValueError):
            return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, not {value!r:.60}")
    return value


def parsed_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not valid JSON") from None
    except RecursionError:
        raise InputError("the request body is nested too deeply") from None


async def json_body(request: Request) -> dict:
    """The body as a JSON object, parsed on a worker thread: a large body does not hold up the others."""
    payload = await run_in_threadpool(parsed_json, await request.body())
    if not isinstance(payload, dict):
        raise InputError("the request body must be a JSON object")
    return payload
