"""The guard, before anything else runs: the token (made on first start, kept in the config folder
for the user only, checked on every start) and ``Guard``, the ASGI middleware that refuses a request
by its Host, Origin, Sec-Fetch-Site, token or size, hands the app a bounded body, watches for the
client going (the request's stop flag) and turns any unexpected error into the JSON 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ..core.errors import InputError
from ..core.logs import log
from ..core.paths import config_dir
from .common import STOP_KEY, error_response

TOKEN_FILE = "server-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,256}")
UNEXPECTED = "an unexpected error stopped this request; the server's log file has the details"


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


def load_or_create_token(say: Callable[[str], None] = print) -> str:
    """The server's token, readable by the user only: kept from an earlier start when its file is
    still private, else new (with a one-line notice when an exposed one is replaced)."""
    path = token_path()
    kept = private_token(path, say)
    if kept is not None:
        return kept
    token = secrets.token_urlsafe(32)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{TOKEN_FILE}.", dir=path.parent)  # 0600, never a link
        with os.fdopen(descriptor, "w", encoding="ascii") as stream:
            stream.write(token + "\n")
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise InputError(f"cannot write the server's token file {path}: {error.strerror or error}") from None
    if os.name == "posix" and path.parent.stat().st_mode & 0o022:
        say(f"warning: other users can write to {path.parent}, so they could replace the server's token")
    return token


def private_token(path: Path, say: Callable[[str], None]) -> str | None:
    """The token in ``path`` when only this user can read or change it; None (and a notice) when not."""
    try:
        info = os.lstat(path)
    except OSError:
        return None  # the first start
    exposed = None
    if not stat.S_ISREG(info.st_mode):
        exposed = "is not a plain file"
    elif os.name == "posix" and info.st_uid != os.getuid():
        exposed = "belongs to another user"
    elif os.name == "posix" and info.st_mode & 0o077:
        exposed = f"could be read or changed by other users (mode {stat.S_IMODE(info.st_mode):o})"
    if exposed is not None:
        say(f"notice: the token file {path} {exposed}: a new token replaces it, for you only")
        return None
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(path, flags), "rb") as stream:
            token = stream.read(512).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token if TOKEN_PATTERN.fullmatch(token) else None


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
    """ASGI middleware: refuses a request before the app sees it, and hands the app a bounded body.

    The time a body may take is the connection's to bound (``connections.GuardedProtocol``).
    """

    def __init__(self, app, token: str, bind_host: str, max_bytes: int) -> None:
        self.app = app
        self.token = token.encode()
        self.max_bytes = max_bytes
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
            body = await self.read_body(receive)
        except BodyTooLarge:
            await error_response(413, f"the request is larger than {self.max_bytes // 2**20} MB")(scope, receive, send)
            return
        except Disconnected:
            return
        stop = scope[STOP_KEY] = threading.Event()
        gone = asyncio.Event()
        watcher = asyncio.create_task(watch(receive, stop, gone))
        delivered = started = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()  # only the watcher reads the connection from here on
            return {"type": "http.disconnect"}

        async def tracked(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, replay, tracked)
        except Exception as error:  # a bug: one line for the console, the traceback for the log file
            path, said = scope.get("path"), " ".join(str(error).split())[:200]  # the client's path: %r, one line
            log.info("the traceback of an unexpected error answering %r", path, exc_info=error)
            log.warning("unexpected error answering %r: %s (the traceback is in the log file)", path, said)
            if not started:
                await error_response(500, UNEXPECTED)(scope, replay, send)
        finally:
            watcher.cancel()

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
            return 401, (
                "a valid token is needed: 'Authorization: Bearer TOKEN', the token being in the file "
                f"'{TOKEN_FILE}' of the server's config folder (named when the server starts)"
            )
        length = headers.get("content-length")
        if length is not None:
            if not (length.isascii() and length.isdigit()):
                return 400, "the Content-Length header is not a number"
            if len(length) > 18 or int(length) > self.max_bytes:
                return 413, f"the request is larger than {self.max_bytes // 2**20} MB"
        return None

    async def read_body(self, receive) -> bytes:
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


async def watch(receive, stop: threading.Event, gone: asyncio.Event) -> None:
    """Set the request's stop flag when its client goes (uvicorn says http.disconnect at once)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    stop.set()
    gone.set()


class BodyTooLarge(Exception):
    pass


class Disconnected(Exception):
    pass
