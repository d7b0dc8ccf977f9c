"""The guard, before anything else runs: the token (made on first start, kept in the config folder
for the user only) and ``Guard``, the ASGI middleware that refuses a request by its Host, Origin,
Sec-Fetch-Site, token or size, and hands the app a body read within the time limit.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

from ..core.paths import config_dir
from .common import error_response

TOKEN_FILE = "server-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


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
