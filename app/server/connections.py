"""The connections, before any request reaches the app: ``GuardedProtocol``, uvicorn's HTTP/1.1
protocol (h11) with the time limits and bounds it lacks, and ``Limits``, their values.

uvicorn closes an idle connection only after a response (its keep-alive timer, reset by every byte)
and counts connections against the same bound as work, so idle or trickling sockets could shut out
every request. Here:

- a request's headers must be complete ``header_timeout`` seconds after the connection opened (or,
  on a kept-alive connection, after the request's first byte), its body ``body_timeout`` seconds
  after its headers; else 408 (or a silent close for a connection that never said anything);
- connections are bounded per client address and in all; a new one beyond a bound takes the place
  of the oldest connection that has no request in the app (idle, kept alive, or still sending its
  headers), and only when every one has a request in the app is it refused with 503;
- every answer the protocol writes itself (malformed HTTP, time limits, refusals) is the server's
  JSON error, ``{"error": "..."}``;
- on shutdown, the work of a request still running is told to stop.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import h11
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from ..core.logs import log
from .common import STOP_KEY

ABORT_AFTER_CLOSE_S = 2.0  # a client that reads nothing cannot keep a closed connection open


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0  # seconds from a request's first byte to the end of its headers
    body_timeout: float = 30.0  # seconds from the end of the headers to the end of the body
    keep_alive: float = 5.0  # seconds an idle connection is kept between requests
    connections: int = 128  # open connections in all
    per_client: int = 64  # open connections from one address
    waiting: int = 8  # requests waiting for the engine beyond the one it is answering (503 beyond)


DEFAULT_LIMITS = Limits()


class ConnectionTable:
    """The open connections, oldest first, in all and by client address."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.all: dict[GuardedProtocol, None] = {}
        self.by_client: dict[str, dict[GuardedProtocol, None]] = {}

    def admit(self, connection: GuardedProtocol) -> bool:
        """Make room for ``connection`` (closing idle ones if need be); False when there is none."""
        mine = self.by_client.get(connection.address, {})
        if len(mine) >= self.limits.per_client and not self.evict_from(mine):
            return False
        if len(self.all) >= self.limits.connections and not self.evict_from(self.all):
            return False
        self.all[connection] = None
        self.by_client.setdefault(connection.address, {})[connection] = None
        return True

    def evict_from(self, connections: dict[GuardedProtocol, None]) -> bool:
        for connection in connections:  # oldest first
            if not connection.in_app():
                self.discard(connection)
                connection.transport.abort()
                return True
        return False

    def discard(self, connection: GuardedProtocol) -> None:
        self.all.pop(connection, None)
        mine = self.by_client.get(connection.address)
        if mine is not None:
            mine.pop(connection, None)
            if not mine:
                del self.by_client[connection.address]


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with request time limits and connection bounds (see the module)."""

    limits: Limits
    table: ConnectionTable

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.address = self.client[0] if self.client else ""
        self.timer: asyncio.TimerHandle | None = None
        self.phase: str | None = None  # "headers" or "body": what the timer waits for
        self.heard = False
        if not self.table.admit(self):
            self.answer_and_close(503, "the server has too many open connections; try again shortly")
            return
        self.wait_for("headers")  # a connection that never says anything is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self.wait_for(None)
        self.table.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.heard = True
        if self.phase is None and self.conn.their_state is h11.IDLE:
            self.wait_for("headers")  # a new request's first byte
        try:
            super().data_received(data)
        except Exception as error:  # h11 raises only RemoteProtocolError (handled) unless it has a bug
            log.info("the traceback of an unexpected error reading a request", exc_info=error)
            self.answer_and_close(400, "the request is not valid HTTP")
            return
        self.follow_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.follow_request()  # a pipelined request may have begun

    def follow_request(self) -> None:
        """Move the timer on as the request arrives: its headers, then its body, then nothing."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self.phase != "body":
                self.wait_for("body")
        elif state is h11.IDLE:
            if self.phase == "body":  # a body drained after its answer; the next request may have begun
                self.wait_for("headers" if self.conn.trailing_data[0] else None)
        else:
            self.wait_for(None)

    def wait_for(self, phase: str | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.phase = phase
        if phase == "headers":
            self.timer = self.loop.call_later(self.limits.header_timeout, self.too_slow, phase)
        elif phase == "body":
            self.timer = self.loop.call_later(self.limits.body_timeout, self.too_slow, phase)

    def too_slow(self, phase: str) -> None:
        self.timer = None
        if phase == "headers" and not self.heard:
            self.close_connection()  # nothing asked, nothing to answer
        else:
            self.answer_and_close(408, f"the request's {phase} took too long to arrive")

    def in_app(self) -> bool:
        """Whether a request of this connection has been handed to the app and not answered yet."""
        return self.cycle is not None and not self.cycle.response_complete

    def send_400_response(self, msg: str) -> None:
        self.answer_and_close(400, "the request is not valid HTTP")

    def answer_and_close(self, status: int, message: str) -> None:
        """Write the server's JSON error (unless a response has begun) and close the connection."""
        cycle = self.cycle
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):  # nothing said yet to this request
            body = json.dumps({"error": message}).encode()
            head = (
                f"HTTP/1.1 {status} {STATUS_PHRASES[status].decode()}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        if cycle is not None and not cycle.response_complete:
            # The app's request is over: its reads end, its writes go nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
        self.close_connection()

    def close_connection(self) -> None:
        self.wait_for(None)
        self.table.discard(self)
        if not self.transport.is_closing():
            self.transport.close()
            self.loop.call_later(ABORT_AFTER_CLOSE_S, self.transport.abort)

    def shutdown(self) -> None:
        if self.in_app():
            stop = self.scope.get(STOP_KEY)
            if stop is not None:
                stop.set()
        super().shutdown()


def protocol_class(limits: Limits) -> type[GuardedProtocol]:
    """The protocol class of one server: its limits and its table of connections."""
    return type("GuardedProtocol", (GuardedProtocol,), {"limits": limits, "table": ConnectionTable(limits)})
