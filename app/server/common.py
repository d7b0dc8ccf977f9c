"""What the guard, the question routes and the library routes share: the errors and their JSON shape
(``{"error": "..."}``), ``Service`` (the reader behind the routes, one question at a time within the
time limit) and ``Busy`` (503), the checks on a request's body and fields, and ``operation``, the
OpenAPI entry of a route that takes a JSON object.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..api import Reader
from ..core.documents import Document
from ..core.errors import Cancelled, InputError

OPTION_FIELDS = ("top_k", "max_windows", "max_answer_len")
SOURCE = "the request"


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


class Busy(Exception):
    pass


class Service:
    """The reader behind the routes: one question at a time, each within the time limit."""

    def __init__(self, reader: Reader, timeout: float) -> None:
        self.reader = reader
        self.timeout = timeout
        self.lock = threading.Lock()

    def answer(self, pairs: list[tuple[Document, str]], options: dict, started: float) -> list[dict]:
        given = {name: as_whole_number(name, options[name]) for name in OPTION_FIELDS if options.get(name) is not None}
        for _, question in pairs:
            checked_question(question)
        if len(pairs) == 1:
            return self.in_turn(started, lambda stop: [self.reader.ask(*pairs[0], stop=stop, source=SOURCE, **given)])
        return self.in_turn(started, lambda stop: self.reader.ask_many(pairs, stop=stop, source=SOURCE, **given))

    def in_turn(self, started: float, work: Callable[[Callable[[], bool]], object]):
        """``work(should_stop)`` once the questions before it are done, all within the time limit."""
        deadline = started + self.timeout
        if not self.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise Busy(f"the server is busy: the request waited longer than {self.timeout:g} s")
        try:
            return work(lambda: time.monotonic() > deadline)
        except Cancelled:
            raise Busy(f"the request took longer than {self.timeout:g} s") from None
        finally:
            self.lock.release()


def checked_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty")
    return question


def as_whole_number(name: str, value: object) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    return value


async def json_body(request: Request) -> dict:
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InputError("the request body must be a JSON object")
    return payload
