"""``reading-assistant serve``: the real server as a process on a free loopback port, a real HTTP client."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from reading_assistant.core.errors import InputError

TEXT = (
    "Marie Curie was born in Warsaw, Poland. She won the Nobel Prize in 1903 and moved to Paris.\n"
    "The quick brown fox jumps over the lazy dog near the river bank.\n"
) * 5
QUESTION = "Where was she born?"
LIMIT_MB = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_bert, tmp_path_factory):
    config = tmp_path_factory.mktemp("config")
    port = free_port()
    env = {**os.environ, "READING_ASSISTANT_CONFIG_DIR": str(config)}
    command = [sys.executable, "-m", "reading_assistant", "serve", "--port", str(port), "--model", str(tiny_bert)]
    process = subprocess.Popen(
        [*command, "--device", "cpu", "--max-request-mb", str(LIMIT_MB), "--timeout", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    token_file = config / "server-token"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server ended: {process.stderr.read()}")
        if token_file.exists():
            try:
                token = token_file.read_text().strip()
                if httpx.get(f"{base}/health", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the server did not start in 60 s")
    yield {"base": base, "token": token, "token_file": token_file, "process": process, "env": env}
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server["base"], headers={"Authorization": f"Bearer {server['token']}"}) as client:
        yield client


@pytest.fixture(scope="module")
def cli_answer(tiny_bert, tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("doc") / "curie.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "reading_assistant", "ask", str(path), QUESTION, "--json", "--model", str(tiny_bert)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def without_seconds(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "seconds"}


def assert_one_message(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_answers_match_the_command_line(client, cli_answer):
    by_text = client.post("/v1/ask", json={"text": TEXT, "question": QUESTION})
    assert by_text.status_code == 200, by_text.text
    assert without_seconds(by_text.json()) == without_seconds(cli_answer)
    uploaded = client.post("/v1/ask", files={"file": ("curie.txt", TEXT.encode())}, data={"question": QUESTION})
    assert uploaded.status_code == 200, uploaded.text
    assert without_seconds(uploaded.json()) == without_seconds(cli_answer)
    fewer = client.post("/v1/ask", json={"text": TEXT, "question": QUESTION, "top_k": 2}).json()
    assert fewer["answers"] == cli_answer["answers"][:2]


def test_paddlehub_style_prediction(client, cli_answer):
    response = client.post(
        "/predict/reading-assistant",
        json={"data": [{"text": TEXT, "question": QUESTION}, {"text": TEXT, "question": "Who?"}]},
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["status"] == "000" and len(payload["results"]) == 2
    assert payload["results"][0]["answers"] == cli_answer["answers"]
    bad = client.post("/predict/reading-assistant", json={"data": "nope"})
    assert bad.status_code == 400 and bad.json()["status"] == "-1"


def test_health_models_and_the_api_description(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["device"] == "CPU"
    models = client.get("/v1/models").json()
    assert any(m["bundled"] for m in models["models"])
    description = client.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/models", "/health", "/predict/reading-assistant"} <= set(description["paths"])


def test_the_token_is_needed_and_kept_for_the_user_only(server, client):
    assert stat.S_IMODE(server["token_file"].stat().st_mode) == 0o600
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {server['token']}"}):
        response = httpx.get(f"{server['base']}/health", headers=headers)
        assert_one_message(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert httpx.post(f"{server['base']}/v1/ask", json={"text": TEXT, "question": QUESTION}).status_code == 401


def test_web_pages_cannot_reach_it(server, client):
    port = server["base"].rsplit(":", 1)[1]
    assert "Origin" in assert_one_message(client.get("/health", headers={"Origin": "https://evil.example"}), 403)
    assert_one_message(client.post("/v1/ask", json={}, headers={"Origin": "null"}), 403)
    # DNS rebinding: a page's own domain pointed at 127.0.0.1 sends its own name as the Host.
    assert "Host" in assert_one_message(client.get("/health", headers={"Host": f"evil.example:{port}"}), 403)
    assert_one_message(client.get("/health", headers={"Sec-Fetch-Site": "cross-site"}), 403)
    same_origin = client.get("/health", headers={"Origin": server["base"]})
    assert same_origin.status_code == 200


def test_oversized_bodies_are_refused(client):
    big = "word " * (LIMIT_MB * 2**20 // 5 + 10)
    assert "larger than" in assert_one_message(client.post("/v1/ask", json={"text": big, "question": "Q?"}), 413)

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(LIMIT_MB * 4 + 1):
            yield b"x" * 2**18

    assert_one_message(client.post("/v1/ask", content=chunks()), 413)


def test_bad_input_is_400_with_one_message(client):
    cases = [
        {"json": {"text": TEXT, "question": "  "}},
        {"json": {"text": "   ", "question": QUESTION}},
        {"json": {"question": QUESTION}},
        {"json": {"text": TEXT, "question": QUESTION, "top_k": 0}},
        {"json": {"text": TEXT, "question": QUESTION, "max_windows": "many"}},
        {"json": {"text": 3, "question": QUESTION}},
        {"json": ["not", "an", "object"]},
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"files": {"file": ("tool.exe", b"MZ\x90\x00")}, "data": {"question": QUESTION}},
        {"files": {"file": ("broken.pdf", b"%PDF-1.7 garbage")}, "data": {"question": QUESTION}},
        {"files": {"file": ("book.epub", b"PK\x03\x04 not a zip")}, "data": {"question": QUESTION}},
        {"files": {"file": ("empty.txt", b"")}, "data": {"question": QUESTION}},
    ]
    for case in cases:
        assert_one_message(client.post("/v1/ask", **case), 400)
    assert_one_message(client.get("/v1/nothing"), 404)
    assert_one_message(client.get("/v1/ask"), 405)


def test_load_loses_no_request(server, cli_answer, capsys):
    clients, per_client = 8, 25
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def work():
        headers = {"Authorization": f"Bearer {server['token']}"}
        with httpx.Client(base_url=server["base"], headers=headers, timeout=60) as http:
            for _ in range(per_client):
                started = time.perf_counter()
                response = http.post("/v1/ask", json={"text": TEXT, "question": QUESTION})
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200 or response.json()["answers"] != cli_answer["answers"]:
                        failures.append(f"{response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    with capsys.disabled():
        print(
            f"\nload: {clients} clients x {per_client} requests = {len(ordered)} in {wall:.1f} s "
            f"({len(ordered) / wall:.0f} req/s); latency p50 {percentile(50):.0f} ms, p90 {percentile(90):.0f} ms, "
            f"p99 {percentile(99):.0f} ms, max {1000 * ordered[-1]:.0f} ms; failures {len(failures)}"
        )
    assert len(ordered) == clients * per_client and failures == []


def test_serve_without_the_extra_names_it(server):
    blocked = (
        "import sys; sys.modules['uvicorn'] = None; from reading_assistant.cli import main; sys.exit(main(['serve']))"
    )
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, env=server["env"])
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'reading-assistant[serve]'" in result.stderr


def test_another_host_is_warned_about_and_a_busy_port_is_one_line(server, tiny_bert):
    from reading_assistant import server as serving
    from reading_assistant.api import open_reader

    reader = open_reader(Path(tiny_bert), "cpu")
    said: list[str] = []
    with pytest.raises(InputError, match=r"cannot listen on 192\.0\.2\.1"):  # TEST-NET: never this machine's
        serving.serve(reader, host="192.0.2.1", port=free_port(), say=said.append)
    assert said and said[0].startswith("warning: listening on 192.0.2.1")
    port = server["base"].rsplit(":", 1)[1]
    with pytest.raises(InputError, match=rf"cannot listen on 127\.0\.0\.1:{port}"):
        serving.serve(reader, port=int(port), say=said.append)
    assert serving.is_loopback("127.0.0.1") and serving.is_loopback("::1") and serving.is_loopback("localhost")
    assert not serving.is_loopback("0.0.0.0") and not serving.is_loopback("example.com")
