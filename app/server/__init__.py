"""``reading-assistant serve``: a local HTTP JSON API through the same ``Reader`` as the Python API
and ``ask`` (Starlette on uvicorn).

Safe for a desktop by default: it listens on loopback only (another ``--host`` is the user's
explicit choice, and is warned about); every request needs the token generated on first start and
kept in the config folder; the Host header must name this machine and a browser's Origin must be
this server's own, so a web page in the user's browser can reach it neither by DNS rebinding nor
by a cross-site form; bodies are bounded in size and requests in time; uploaded files go through
the document loaders' rules and text through ``text_document``. Errors are one message:
``{"error": "..."}`` with 400 (bad input), 401, 403, 404, 405, 408 (too slow a request), 413, 500
(a bug: the traceback goes to the log file) or 503 (busy).

Idle and slow clients cannot shut it out (``connections``: header and body time limits, connections
bounded per client and in all); the engine answers one request at a time, a bounded queue waits its
turn (503 beyond it), ``/health`` answers meanwhile, and a request whose client goes stops its work.

The library routes (``/library...``, ``/embedding``) open the reader's library on their first
request (503 with the reason when it cannot be, the other routes unaffected); indexing runs on a
server thread of its own, one run at a time, and stops when the server does.

Here: the question routes, the OpenAPI document, ``build_app``, ``make_server`` and ``serve``.
``connections`` holds the HTTP protocol and its limits, ``guard`` the token and the guard in front
of every route, ``library`` the library routes and their state, and ``common`` what they share (the
errors, ``Service`` and its queue, the request-body checks).
"""

from __future__ import annotations

import contextlib
import logging
import socket
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

from .. import __version__
from ..api import LibraryReader, Reader
from ..core.documents import text_document
from ..core.documents.load_options import LoadOptions
from ..core.documents.loading import load_bytes
from ..core.errors import InputError, ReadingAssistantError
from ..core.library import LibraryError
from ..core.logs import log
from ..core.model_store import list_models
from .common import OPTION_FIELDS, Busy, DocumentMaker, Service, error_response, json_body, request_stop
from .connections import DEFAULT_LIMITS, Limits, protocol_class
from .guard import UNEXPECTED, Guard, is_loopback, load_or_create_token, token_path
from .library import LIBRARY_PATHS, Libraries, default_library, library_routes

PADDLE_PATH = "/predict/reading-assistant"

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
        "/health": {
            "get": {
                "summary": "The server is up: its model and device, and the engine's queue "
                '({"running": 0 or 1, "waiting": n, "waiting_limit": n}); answered while the engine is busy',
                "responses": {"200": {}},
            }
        },
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
                    "408": {},
                    "413": {},
                    "503": {"description": "busy: the queue is full, or the request ran out of time"},
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
OPENAPI["paths"].update(LIBRARY_PATHS)  # the library routes' entries (library.py), after the others


# -- the app ---------------------------------------------------------------------------------


def upload_of(data: bytes, filename: str) -> DocumentMaker:
    """An uploaded file under the rules of a file on disk: its type by suffix, its size, its loader
    (loaded in the engine's turn, and stopped with the rest)."""
    name = Path(filename or "upload").name or "upload"
    return lambda should_stop: load_bytes(data, name, LoadOptions(should_stop=should_stop))


def text_of(value: object, field: str) -> DocumentMaker:
    """Text sent as text: always the document itself, never a file it might name (made in the engine's turn)."""
    if not isinstance(value, str):
        raise InputError(f"'{field}' must be text")
    return lambda should_stop: text_document(value, f"the {field}", should_stop)


def build_app(
    reader: Reader,
    token: str,
    bind_host: str,
    max_bytes: int,
    timeout: float,
    library: Callable[[], LibraryReader] | None = None,
    waiting: int = DEFAULT_LIMITS.waiting,
) -> Guard:
    """The app; ``library`` opens the library of the library routes (default: ``default_library``),
    ``waiting`` is how many requests may wait for the engine (503 beyond)."""
    service = Service(reader, timeout, waiting)
    libraries = Libraries(library or default_library(reader), service)

    async def run(request: Request, pairs: list[tuple[DocumentMaker, str]], options: dict) -> list[dict]:
        return await run_in_threadpool(service.answer, pairs, options, time.monotonic(), request_stop(request))

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "model": reader.model,
                "device": reader.device,
                "queue": service.turns.status(),
            }
        )

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
                document = upload_of(await upload.read(), upload.filename or "upload")
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
        return JSONResponse((await run(request, [(document, question)], fields))[0])

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
        results = await run(request, pairs, payload)
        return JSONResponse({"status": "000", "msg": "", "results": results})

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(OPENAPI)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await run_in_threadpool(libraries.close)

    async def bad_input(request: Request, error: Exception) -> JSONResponse:
        if request.url.path == PADDLE_PATH:
            return JSONResponse({"status": "-1", "msg": str(error), "error": str(error)}, status_code=400)
        return error_response(400, str(error))

    async def busy(request: Request, error: Exception) -> JSONResponse:
        return error_response(503, str(error))

    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail))

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        return error_response(500, UNEXPECTED)  # the guard logs it

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/ask", ask, methods=["POST"]),
            Route(PADDLE_PATH, paddle, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            *library_routes(libraries),
        ],
        # A library that cannot be used now (a full disk, another program writing) is not bad input.
        exception_handlers={
            ReadingAssistantError: bad_input,
            LibraryError: busy,
            Busy: busy,
            HTTPException: http_error,
            Exception: unexpected,
        },
        lifespan=lifespan,
    )
    return Guard(app, token, bind_host, max_bytes)


# -- running ---------------------------------------------------------------------------------


def make_server(
    reader: Reader,
    host: str = "127.0.0.1",
    port: int = 8866,
    max_request_bytes: int = 50 * 2**20,
    timeout: float = 60.0,
    say: Callable[[str], None] = print,
    library: Callable[[], LibraryReader] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[uvicorn.Server, socket.socket]:
    """The server, not running yet, and its listening socket (``server.run(sockets=[listener])``)."""
    if not 0 <= port <= 65535:
        raise InputError(f"port must be between 0 and 65535, not {port}")
    if max_request_bytes < 1:
        raise InputError("the request size limit must be at least 1 MB")
    if not 0 < timeout <= 3600:
        raise InputError(f"timeout must be between 0 and 3600 seconds, not {timeout:g}")
    if not is_loopback(host):
        say(f"warning: listening on {host}: other machines may reach this server (each request still needs the token)")
    token = load_or_create_token(say)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host.strip("[]"), port))
    except (OSError, UnicodeError) as error:
        raise InputError(f"cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}") from None
    app = build_app(reader, token, host, max_request_bytes, timeout, library, limits.waiting)
    config = uvicorn.Config(
        app,
        http=protocol_class(limits),
        ws="none",  # no websockets: an upgrade would leave the protocol above and its limits
        log_config=None,  # uvicorn's own messages go to the log file (log_to_file), never the console
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=limits.keep_alive,
        lifespan="on",  # its shutdown stops the library's indexing
    )
    for name in ("uvicorn", "asyncio"):  # asyncio: a connection it could not accept (out of descriptors)
        log_to_file(name)
    return uvicorn.Server(config), listener


def serve(
    reader: Reader,
    host: str = "127.0.0.1",
    port: int = 8866,
    max_request_bytes: int = 50 * 2**20,
    timeout: float = 60.0,
    say: Callable[[str], None] = print,
    library: Callable[[], LibraryReader] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    server, listener = make_server(reader, host, port, max_request_bytes, timeout, say, library, limits)
    shown = f"[{host}]" if ":" in host else host
    say(
        f"serving {reader.model} on http://{shown}:{listener.getsockname()[1]} (API description at /openapi.json); "
        f"every request needs 'Authorization: Bearer TOKEN', the token being in {token_path()}"
    )
    server.run(sockets=[listener])
    return 0


def log_to_file(name: str) -> None:
    """The logger ``name`` writes to the app's log file only: a client cannot fill the console with
    warnings about its malformed requests."""
    logger = logging.getLogger(name)
    logger.handlers = [handler for handler in log.handlers if isinstance(handler, logging.FileHandler)]
    logger.handlers = logger.handlers or [logging.NullHandler()]
    logger.propagate = False
