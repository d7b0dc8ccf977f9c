"""``reading-assistant serve``: a local HTTP JSON API through the same ``Reader`` as the Python API
and ``ask`` (Starlette on uvicorn).

Safe for a desktop by default: it listens on loopback only (another ``--host`` is the user's
explicit choice, and is warned about); every request needs the token generated on first start and
kept in the config folder; the Host header must name this machine and a browser's Origin must be
this server's own, so a web page in the user's browser can reach it neither by DNS rebinding nor
by a cross-site form; bodies are bounded in size and requests in time; uploaded files go through
the document loaders' rules and text through ``text_document``. Errors are one message:
``{"error": "..."}`` with 400 (bad input), 401, 403, 404, 405, 413 or 503.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import __version__
from .api import Reader
from .core.documents import Document, text_document
from .core.documents.loading import load_bytes
from .core.errors import Cancelled, InputError, ReadingAssistantError
from .core.model_store import list_models
from .core.paths import config_dir

TOKEN_FILE = "server-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
PADDLE_PATH = "/predict/reading-assistant"
OPTION_FIELDS = ("top_k", "max_windows", "max_answer_len")

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Reading Assistant",
        "version": __version__,
        "description": "Answers questions about a document, offline. Every request needs "
        "'Authorization: Bearer TOKEN' (the token is in the file the server names when it starts).",
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Answer": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "start": {"type": "integer", "description": "character offset in the document's text"},
                    "end": {"type": "integer"},
                    "score": {"type": "number"},
                },
            },
            "Result": {
                "type": "object",
                "description": "What 'reading-assistant ask --json' prints.",
                "properties": {
                    "question": {"type": "string"},
                    "answers": {"type": "array", "items": {"$ref": "#/components/schemas/Answer"}},
                    "no_answer_score": {"type": "number"},
                    "has_answer": {"type": "boolean"},
                    "model": {"type": "string"},
                    "device": {"type": "string"},
                    "windows": {"type": "integer"},
                    "seconds": {"type": "number"},
                },
            },
            "Options": {
                "type": "object",
                "properties": {
                    "top_k": {"type": "integer", "minimum": 1, "maximum": 100},
                    "max_windows": {"type": "integer", "minimum": 0, "description": "0 reads every window"},
                    "max_answer_len": {"type": "integer", "minimum": 1},
                },
            },
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        },
    },
    "security": [{"token": []}],
    "paths": {
        "/health": {"get": {"summary": "The server is up; its model and device", "responses": {"200": {}}}},
        "/v1/models": {"get": {"summary": "The models to choose from (the server runs one)", "responses": {"200": {}}}},
        "/v1/ask": {
            "post": {
                "summary": "Answer a question about a text or an uploaded file",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Options"},
                                    {
                                        "type": "object",
                                        "required": ["text", "question"],
                                        "properties": {"text": {"type": "string"}, "question": {"type": "string"}},
                                    },
                                ]
                            }
                        },
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "question"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "question": {"type": "string"},
                                    "top_k": {"type": "integer"},
                                    "max_windows": {"type": "integer"},
                                    "max_answer_len": {"type": "integer"},
                                },
                            }
                        },
                    }
                },
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}},
                    "400": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "401": {},
                    "403": {},
                    "413": {},
                    "503": {},
                },
            }
        },
        PADDLE_PATH: {
            "post": {
                "summary": "PaddleHub-style prediction: several (text, question) pairs",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["data"],
                                "properties": {
                                    "data": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {"text": {"type": "string"}, "question": {"type": "string"}},
                                        },
                                    },
                                    "top_k": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
                "responses": {"200": {"description": '{"status": "000", "msg": "", "results": [Result...]}'}},
            }
        },
        "/openapi.json": {"get": {"summary": "This description", "responses": {"200": {}}}},
    },
}


# -- the token -------------------------------------------------------------------------------


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def load_or_create_token() -> str:
    """The server's token, made on first start and readable by the user only."""
    path = token_path()
    try:
        token = path.read_text(encoding="ascii").strip()
        if len(token) >= 32:
            return token
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(token + "\n")
    os.replace(temporary, path)
    return token


# -- the guard: host, origin, token, size, before anything else runs -------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The name in a Host header or an origin's authority, without its port ("[::1]:8866" -> "::1")."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """ASGI middleware: refuses a request before the app sees it, and hands the app a bounded body."""

    def __init__(self, app, token: str, bind_host: str, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.token = token.encode()
        self.max_bytes = max_bytes
        self.timeout = timeout
        # Bound to loopback, only loopback names: a rebinding page's Host is its own domain.
        self.hosts = None if not is_loopback(bind_host) else {*LOOPBACK_NAMES, host_name(bind_host)}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.refusal(headers)
        if refusal is not None:
            await error_response(*refusal)(scope, receive, send)
            return
        try:
            body = await asyncio.wait_for(self.read_body(receive, headers), self.timeout)
        except BodyTooLarge:
            await error_response(413, f"the request is larger than {self.max_bytes // 2**20} MB")(scope, receive, send)
            return
        except asyncio.TimeoutError:
            await error_response(408, "the request body took too long to arrive")(scope, receive, send)
            return
        except Disconnected:
            return
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def refusal(self, headers: dict[str, str]) -> tuple[int, str] | None:
        if self.hosts is not None and host_name(headers.get("host", "")) not in self.hosts:
            return 403, "this server answers only requests addressed to this machine (the Host header)"
        origin = headers.get("origin")
        if origin is not None:
            scheme, _, authority = origin.partition("://")
            if scheme not in ("http", "https") or authority.lower() != headers.get("host", "").lower():
                return 403, "requests from web pages are refused (the Origin header is not this server)"
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return 403, "requests from web pages are refused (Sec-Fetch-Site)"
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token):
            return 401, f"a valid token is needed: 'Authorization: Bearer TOKEN', the token being in {token_path()}"
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "the Content-Length header is not a number"
            if int(length) > self.max_bytes:
                return 413, f"the request is larger than {self.max_bytes // 2**20} MB"
        return None

    async def read_body(self, receive, headers: dict[str, str]) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class BodyTooLarge(Exception):
    pass


class Disconnected(Exception):
    pass


def error_response(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


# -- the app ---------------------------------------------------------------------------------


class Service:
    """The reader behind the routes: one question at a time, each within the time limit."""

    def __init__(self, reader: Reader, timeout: float) -> None:
        self.reader = reader
        self.timeout = timeout
        self.lock = threading.Lock()

    def answer(self, pairs: list[tuple[Document, str]], options: dict, started: float) -> list[dict]:
        deadline = started + self.timeout
        given = {name: as_whole_number(name, options[name]) for name in OPTION_FIELDS if options.get(name) is not None}
        for _, question in pairs:
            if not isinstance(question, str) or not question.strip():
                raise InputError("the question is empty")
        if not self.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise Busy(f"the server is busy: the request waited longer than {self.timeout:g} s")
        try:
            should_stop = lambda: time.monotonic() > deadline  # noqa: E731
            if len(pairs) == 1:
                return [self.reader.ask(*pairs[0], stop=should_stop, source="the request", **given)]
            return self.reader.ask_many(pairs, stop=should_stop, source="the request", **given)
        except Cancelled:
            raise Busy(f"the request took longer than {self.timeout:g} s") from None
        finally:
            self.lock.release()


class Busy(Exception):
    pass


def as_whole_number(name: str, value: object) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    return value


def upload_document(data: bytes, filename: str) -> Document:
    """An uploaded file under the rules of a file on disk: its type by suffix, its size, its loader."""
    return load_bytes(data, Path(filename or "upload").name or "upload")


async def json_body(request: Request) -> dict:
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise InputError("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise InputError("the request body must be a JSON object")
    return payload


def text_of(value: object, field: str) -> Document:
    """Text sent as text: always the document itself, never a file it might name."""
    if not isinstance(value, str):
        raise InputError(f"'{field}' must be text")
    return text_document(value, f"the {field}")


def build_app(reader: Reader, token: str, bind_host: str, max_bytes: int, timeout: float) -> Guard:
    service = Service(reader, timeout)

    async def run(pairs: list[tuple[Document, str]], options: dict) -> list[dict]:
        return await run_in_threadpool(service.answer, pairs, options, time.monotonic())

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__, "model": reader.model, "device": reader.device})

    async def models(request: Request) -> JSONResponse:
        in_use = reader.engine.model_dir.resolve()
        listed = [{**m.as_json(), "in_use": m.folder.resolve() == in_use} for m in list_models()]
        return JSONResponse({"models": listed, "in_use": reader.model})

    async def ask(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            try:
                form = await request.form(max_files=1, max_fields=20)
            except Exception:  # a malformed multipart body
                raise InputError("the multipart form cannot be read") from None
            upload = form.get("file")
            if isinstance(upload, UploadFile):
                document = upload_document(await upload.read(), upload.filename or "upload")
            elif form.get("text") is not None:
                document = text_of(form.get("text"), "text")
            else:
                raise InputError("give the document as a 'file' upload or as 'text'")
            fields = {name: form.get(name) for name in (*OPTION_FIELDS, "question")}
        else:
            fields = await json_body(request)
            if "text" not in fields:
                raise InputError("give the document as 'text' (or upload a file as multipart/form-data)")
            document = text_of(fields["text"], "text")
        question = fields.get("question")
        if not isinstance(question, str):
            raise InputError("'question' must be text")
        return JSONResponse((await run([(document, question)], fields))[0])

    async def paddle(request: Request) -> JSONResponse:
        payload = await json_body(request)
        data = payload.get("data")
        if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
            raise InputError('\'data\' must be a list of {"text": ..., "question": ...} objects')
        pairs = []
        for item in data:
            document = text_of(item.get("text", item.get("context")), "text")
            question = item.get("question")
            if not isinstance(question, str):
                raise InputError("'question' must be text")
            pairs.append((document, question))
        results = await run(pairs, payload)
        return JSONResponse({"status": "000", "msg": "", "results": results})

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(OPENAPI)

    async def bad_input(request: Request, error: Exception) -> JSONResponse:
        if request.url.path == PADDLE_PATH:
            return JSONResponse({"status": "-1", "msg": str(error), "error": str(error)}, status_code=400)
        return error_response(400, str(error))

    async def busy(request: Request, error: Exception) -> JSONResponse:
        return error_response(503, str(error))

    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail))

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/ask", ask, methods=["POST"]),
            Route(PADDLE_PATH, paddle, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
        ],
        exception_handlers={ReadingAssistantError: bad_input, Busy: busy, HTTPException: http_error},
    )
    return Guard(app, token, bind_host, max_bytes, timeout)


# -- running ---------------------------------------------------------------------------------


def serve(
    reader: Reader,
    host: str = "127.0.0.1",
    port: int = 8866,
    max_request_bytes: int = 50 * 2**20,
    timeout: float = 60.0,
    say: Callable[[str], None] = print,
) -> int:
    if not 0 <= port <= 65535:
        raise InputError(f"port must be between 0 and 65535, not {port}")
    if max_request_bytes < 1:
        raise InputError("the request size limit must be at least 1 MB")
    if not 0 < timeout <= 3600:
        raise InputError(f"timeout must be between 0 and 3600 seconds, not {timeout:g}")
    if not is_loopback(host):
        say(f"warning: listening on {host}: other machines may reach this server (each request still needs the token)")
    token = load_or_create_token()
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host.strip("[]"), port))
    except (OSError, UnicodeError) as error:
        raise InputError(f"cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}") from None
    bound_port = listener.getsockname()[1]
    app = build_app(reader, token, host, max_request_bytes, timeout)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
        limit_concurrency=100,
        lifespan="off",
    )
    shown = f"[{host}]" if ":" in host else host
    say(
        f"serving {reader.model} on http://{shown}:{bound_port} (API description at /openapi.json); "
        f"every request needs 'Authorization: Bearer TOKEN', the token being in {token_path()}"
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0
