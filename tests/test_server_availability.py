"""The server stays available: a real uvicorn server on a loopback port in a thread (the bundled
reader on the CPU), real sockets and a real HTTP client; idle, slow, abandoning and hostile clients.

The server's request time limit is long (600 s), so only stopping abandoned work can free the
engine; its connection limits are the defaults but for short header and body time limits.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from reading_assistant.api import open_reader
from reading_assistant.core.documents import text_document
from reading_assistant.evaluation.server_soak import FACT, QUESTION, book
from reading_assistant.server import make_server
from reading_assistant.server.connections import Limits
from reading_assistant.server.guard import UNEXPECTED, load_or_create_token

LIMITS = Limits(header_timeout=4.0, body_timeout=4.0, keep_alive=2.0)
BOOK = book(2_000_000)
# A read that would hold the engine for minutes: every window of the book, eight times over.
LONG_READ = json.dumps({"data": [{"text": BOOK, "question": QUESTION}] * 8, "max_windows": 0}).encode()
PADDLE = "/predict/reading-assistant"
WINDOWS = 4  # what the clients' questions read of the book: a few windows, to keep the test short


def broken_library():
    raise RuntimeError("a bug while opening the library")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = tmp_path_factory.mktemp("config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("READING_ASSISTANT_CONFIG_DIR", str(config))
        reader = open_reader(device="cpu")
        expected = reader.ask(text_document(BOOK, "the text"), QUESTION, max_windows=WINDOWS)["answers"]
        uvicorn_server, listener = make_server(reader, port=0, timeout=600, library=broken_library, limits=LIMITS)
        thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        assert wait_until(lambda: uvicorn_server.started, 60), "the server did not start in 60 s"
        port = listener.getsockname()[1]
        token = (config / "server-token").read_text().strip()
        table = uvicorn_server.config.http_protocol_class.table  # the open connections, as the server counts them
        yield {"port": port, "token": token, "config": config, "expected": expected, "table": table}
        uvicorn_server.should_exit = True
        thread.join(60)


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def client(server, timeout: float = 60) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server['token']}"}
    return httpx.Client(base_url=f"http://127.0.0.1:{server['port']}", headers=headers, timeout=timeout)


def queue(server) -> dict:
    with client(server) as http:
        return http.get("/health").json()["queue"]


def wait_idle(server) -> None:
    def idle() -> bool:
        now = queue(server)
        return now["running"] == 0 and now["waiting"] == 0

    assert wait_until(idle, 120)


def sent(server, path: str, body: bytes) -> http.client.HTTPConnection:
    """A request sent and not read (its client may hang up on it)."""
    connection = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=60)
    headers = {"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"}
    connection.request("POST", path, body=body, headers=headers)
    return connection


def reply(connection: socket.socket, seconds: float = 30) -> tuple[int, dict]:
    """The status and JSON body of the one response on a raw socket."""
    connection.settimeout(seconds)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed without a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "the connection closed in the middle of a response"
        body += chunk
    assert "content-type: application/json" in head.decode("latin-1").lower()
    return int(lines[0].split()[1]), json.loads(body)


def closed_by_server(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``connection`` within ``seconds`` (whatever it says first)."""
    connection.settimeout(seconds)
    try:
        while connection.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:  # reset: closed at once
        pass
    return True


def one_message(payload: dict) -> str:
    message = payload["error"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_idle_and_trickling_clients_do_not_shut_out_authorised_ones(server):
    address = ("127.0.0.1", server["port"])
    idle = [socket.create_connection(address) for _ in range(100)]  # more than one client may hold
    trickled: list[tuple[float, bytes]] = []

    def trickle() -> None:
        started = time.monotonic()
        lines = [b"GET /health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", *(b"X-Slow: %d\r\n" % n for n in range(60))]
        with socket.create_connection(address) as connection:
            for line in lines:
                try:
                    connection.sendall(line)
                    connection.settimeout(1.0)
                    answer = connection.recv(65536)  # returns when the server answers or closes
                except TimeoutError:
                    continue
                except OSError:
                    answer = b""
                trickled.append((time.monotonic() - started, answer))
                return

    tricklers = [threading.Thread(target=trickle) for _ in range(5)]
    for thread in tricklers:
        thread.start()
    time.sleep(1.5)
    statuses: list[int] = []

    def authorised() -> None:
        with client(server) as http:  # each its own connection
            statuses.append(http.get("/health").status_code)

    askers = [threading.Thread(target=authorised) for _ in range(20)]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join(120)
    assert statuses == [200] * 20
    for thread in tricklers:
        thread.join(120)
    # Closed long before their 62 lines ran out: by the header time limit (408) or to make room.
    assert len(trickled) == 5 and all(seconds < 40 for seconds, _ in trickled), trickled
    assert all(answer == b"" or answer.startswith(b"HTTP/1.1 408 ") for _, answer in trickled), trickled
    assert all(closed_by_server(connection, 30) for connection in idle)
    for connection in idle:
        connection.close()
    assert wait_until(lambda: not server["table"].all, 30)  # none is still counted


def test_slow_headers_and_bodies_are_a_json_408_and_the_end_of_the_connection(server):
    address = ("127.0.0.1", server["port"])
    with socket.create_connection(address) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\n")
        status, payload = reply(connection)
        assert status == 408 and "headers" in one_message(payload)
        assert closed_by_server(connection, 10)
    with socket.create_connection(address) as connection:
        head = f"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server['token']}\r\n"
        connection.sendall(f"{head}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{".encode())
        status, payload = reply(connection)
        assert status == 408 and "body" in one_message(payload)
        assert closed_by_server(connection, 10)
    # Refused at once, then a body trickled a byte a second: the connection still ends.
    with socket.create_connection(address) as connection:
        connection.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
        status, payload = reply(connection)
        assert status == 401
        for _ in range(40):
            try:
                connection.sendall(b"x")
            except OSError:
                break
            if closed_by_server(connection, 1.0):
                break
        else:
            pytest.fail("a body trickled after a refusal kept the connection open for 40 s")


def test_clients_asking_about_a_book_get_answers_or_clean_503s_never_a_stall(server, capsys):
    wait_idle(server)
    abandoned = [sent(server, PADDLE, LONG_READ) for _ in range(4)]
    assert wait_until(lambda: queue(server)["running"] == 1, 120)
    for connection in abandoned:
        connection.close()
    results: list[tuple[int, dict, float]] = []
    lock = threading.Lock()

    def ask() -> None:
        with client(server, timeout=300) as http:
            started = time.monotonic()
            response = http.post("/v1/ask", json={"text": BOOK, "question": QUESTION, "max_windows": WINDOWS})
            with lock:
                results.append((response.status_code, response.json(), time.monotonic() - started))

    started = time.monotonic()
    threads = [threading.Thread(target=ask) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(400)
    wall = time.monotonic() - started
    answered = [seconds for status, payload, seconds in results if status == 200]
    busy = [payload for status, payload, _ in results if status == 503]
    with capsys.disabled():
        print(
            f"\n32 clients behind 4 abandoned long reads: {len(answered)} answered "
            f"(slowest {max(answered, default=0):.1f} s), {len(busy)} clean 503s, all done in {wall:.1f} s"
        )
    assert len(results) == 32 and len(answered) + len(busy) == 32
    assert all(payload["answers"] == server["expected"] for status, payload, _ in results if status == 200)
    assert all("waiting already" in one_message(payload) for payload in busy)  # the queue was full, no timeout
    # The abandoned reads alone would hold the engine for many minutes: nobody waited behind them.
    assert answered and wall < 240


def test_an_abandoned_request_frees_the_engine_within_about_a_second(server, capsys):
    wait_idle(server)
    connection = sent(server, PADDLE, LONG_READ)
    assert wait_until(lambda: queue(server)["running"] == 1, 120)
    time.sleep(1.0)  # well into its work
    assert queue(server)["running"] == 1
    hung_up = time.monotonic()
    connection.close()
    assert wait_until(lambda: queue(server)["running"] == 0, 60)
    freed = time.monotonic() - hung_up
    with capsys.disabled():
        print(f"\nthe engine was free {freed:.2f} s after the client hung up")
    assert freed < 10  # generous on a loaded machine; the read itself would take minutes


def test_the_queue_has_a_limit_and_health_answers_while_the_engine_is_busy(server, capsys):
    wait_idle(server)
    running = sent(server, PADDLE, LONG_READ)
    assert wait_until(lambda: queue(server)["running"] == 1, 120)
    small = json.dumps({"text": FACT, "question": "Who founded the observatory?"}).encode()
    waiting = [sent(server, "/v1/ask", small) for _ in range(LIMITS.waiting)]
    assert wait_until(lambda: queue(server)["waiting"] == LIMITS.waiting, 60)
    with client(server) as http:
        started = time.monotonic()
        beyond = http.post("/v1/ask", json={"text": FACT, "question": "Who?"})
        refused_in = time.monotonic() - started
        started = time.monotonic()
        health = http.get("/health")
        health_in = time.monotonic() - started
    with capsys.disabled():
        print(f"\nengine busy, {LIMITS.waiting} waiting: a 503 in {refused_in:.3f} s, /health in {health_in:.3f} s")
    assert beyond.status_code == 503 and "waiting already" in one_message(beyond.json())
    assert health.status_code == 200 and health.json()["queue"] == {
        "running": 1,
        "waiting": LIMITS.waiting,
        "waiting_limit": LIMITS.waiting,
    }
    for connection in [running, *waiting]:
        connection.close()
    wait_idle(server)  # every abandoned one left the queue


def test_connections_beyond_the_bound_are_a_clean_503_while_every_one_is_in_use(server):
    address = ("127.0.0.1", server["port"])
    head = f"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server['token']}\r\n"
    holding = []
    for _ in range(LIMITS.per_client):  # authorised requests whose bodies are on their way: not idle
        connection = socket.create_connection(address)
        connection.sendall(f"{head}Content-Length: 10\r\n\r\n".encode())
        holding.append(connection)
    try:
        time.sleep(0.5)
        with socket.create_connection(address) as extra:
            status, payload = reply(extra)
            assert status == 503 and "too many open connections" in one_message(payload)
    finally:
        for connection in holding:
            connection.close()
    with client(server) as http:
        assert wait_until(lambda: http.get("/health").status_code == 200, 30)


def test_hostile_bodies_and_requests_get_json_errors(server, capfd):
    nested = "[" * 200_000 + "]" * 200_000
    with client(server) as http:
        for path in ("/v1/ask", PADDLE, "/library/ask"):
            response = http.post(path, content=nested, headers={"Content-Type": "application/json"})
            assert response.status_code == 400 and "nested too deeply" in one_message(response.json())
        deep = '{"text": ' + nested + ', "question": "Q?"}'
        response = http.post("/v1/ask", content=deep, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and "nested too deeply" in one_message(response.json())
        for options in ({"top_k": "9" * 5000}, {"max_windows": "²"}, {"top_k": "x" * 100_000}):
            response = http.post("/v1/ask", json={"text": FACT, "question": "Who?", **options})
            assert response.status_code == 400 and len(one_message(response.json())) < 200
        bug = http.get("/library")  # its opener fails with a bug
        assert bug.status_code == 500 and one_message(bug.json()) == UNEXPECTED
    with socket.create_connection(("127.0.0.1", server["port"])) as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, payload = reply(connection)
        assert status == 400 and one_message(payload)
    with socket.create_connection(("127.0.0.1", server["port"])) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n")
        status, payload = reply(connection)
        assert status in (400, 401, 413) and one_message(payload)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "RecursionError" not in err


def test_refusals_name_no_path(server):
    config = str(server["config"])
    base = f"http://127.0.0.1:{server['port']}"
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Host": "evil.example"},
        {"Origin": "https://evil.example"},
    ):
        response = httpx.get(f"{base}/health", headers=headers)
        assert response.status_code in (401, 403)
        message = one_message(response.json())
        assert config not in response.text and "/" not in message and "\\" not in message


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_exposed_token_file_is_replaced_by_a_private_one(tmp_path, monkeypatch):
    monkeypatch.setenv("READING_ASSISTANT_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "server-token"
    said: list[str] = []
    first = load_or_create_token(said.append)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and said == []
    assert load_or_create_token(said.append) == first and said == []  # a private one is kept
    path.chmod(0o644)
    second = load_or_create_token(said.append)
    assert second != first and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(said) == 1 and "could be read or changed by other users" in said[0] and "\n" not in said[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text(second)
    elsewhere.chmod(0o600)
    path.unlink()
    path.symlink_to(elsewhere)  # a link planted in its place is not followed
    third = load_or_create_token(said.append)
    assert third != second and not path.is_symlink() and elsewhere.read_text() == second
    assert "not a plain file" in said[-1] and path.read_text().strip() == third
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
