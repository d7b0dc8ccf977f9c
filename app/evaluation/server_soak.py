"""``python -m reading_assistant.evaluation.server_soak --minutes 10``: the local server under mixed,
bounded load for a while, measured and printed: latency percentiles and outcomes by kind of request
(answers, clean 503s, errors by kind), what the server did with idle and slow sockets, and its memory
(RSS) growth. The exit status is 1 when a target is missed: an error other than a clean JSON 503, a
traceback on the server's standard error, or memory growth beyond 50 MB after the warm-up.

The server is the real command, ``reading-assistant serve`` (the bundled model on the CPU unless
told otherwise), as a process of its own on a free loopback port, its config folder (the token) a
temporary one, deleted afterwards. The load, all of it bounded:
- askers asking about made-up books of 50 to 200 KB (more books than the engine keeps, so they
  are tokenized again and again), a plain question, a batch (the PaddleHub route) and an upload;
- ``/health`` twice a second (it must answer while the engine is busy);
- idle sockets that never send a byte, replaced as the server closes them;
- slow clients sending a header line a second until the server closes them;
- abandoned requests: a long read (every window of the largest book) whose client hangs up.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

GROWTH_TARGET_MB = 50.0
# What may happen to each kind of request; anything else is an error.
FINE = defaultdict(
    frozenset,
    {
        "ask": frozenset({"ok", "busy"}),
        "batch": frozenset({"ok", "busy"}),
        "upload": frozenset({"ok", "busy"}),
        "health": frozenset({"ok"}),
        "idle socket": frozenset({"opened", "closed by the server"}),
        "slow client": frozenset({"closed by the server"}),
        "abandoned": frozenset({"sent"}),
    },
)
QUESTION = "Who founded the observatory of Kestrel Point?"
FACT = (
    "In 1871 the astronomer Amelia Hartwell founded the observatory of Kestrel Point, on the cliffs above "
    "the old harbour, and kept its records for forty years."
)
PEOPLE = ["Tobias Crane", "Helena Marsh", "Oskar Lind", "Mira Castell", "Jonas Webb", "Ida Fenwick", "Piet Aalders"]
PLACES = ["Northwind", "Saltmere", "Greyhaven", "Ashford", "Brackwater", "Eldham", "Mossbank", "Cold Harbour"]
THINGS = ["lighthouse", "grain market", "rope works", "library", "shipyard", "toll bridge", "weather station"]
GOODS = ["timber", "salt", "wool", "herring", "coal", "slate", "barley"]
TEMPLATES = [
    "In {year}, {person} opened the {thing} of {place}, and the town council paid for its first {count} years.",
    "The river below {place} carried {good} to the coast; {person} counted {count} barges in the spring of {year}.",
    "{person} wrote {count} letters to the mayor of {place} about the {thing}, the last of them in {year}.",
    "By {year} the {thing} of {place} employed {count} people, most of them trading in {good} with {other}.",
    "A storm in {year} destroyed the {thing} of {place}; {person} rebuilt it with {good} brought from {other}.",
]


def book(chars: int, seed: int = 0) -> str:
    """A made-up history of ``chars`` characters or a little more, in chapters, with ``FACT`` in its middle."""
    rng = random.Random(seed)
    paragraphs, size, chapter = [], 0, 0
    while size < chars:
        chapter += 1
        sentences = [
            rng.choice(TEMPLATES).format(
                year=rng.randint(1600, 1950),
                person=rng.choice(PEOPLE),
                place=rng.choice(PLACES),
                other=rng.choice(PLACES),
                thing=rng.choice(THINGS),
                good=rng.choice(GOODS),
                count=rng.randint(2, 400),
            )
            for _ in range(rng.randint(3, 6))
        ]
        if size < chars // 2 <= size + sum(map(len, sentences)):
            sentences.insert(len(sentences) // 2, FACT)
        paragraphs.append(f"Chapter {chapter}. " + " ".join(sentences))
        size += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)


@dataclass
class Tally:
    """What the load saw, by kind of request: latencies of answered requests, outcomes, and notes."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    notes: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, outcome: str, seconds: float | None = None) -> None:
        with self.lock:
            self.outcomes[kind][outcome] += 1
            if seconds is not None:
                self.latencies[kind].append(seconds)

    def note(self, what: str, value: float) -> None:
        with self.lock:
            self.notes[what].append(value)


def outcome_of(response: httpx.Response) -> str:
    """The outcome: "ok", "busy" (a clean JSON 503) or the error's kind."""
    try:
        payload = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, not JSON"
    if response.status_code == 200:
        return "ok"
    if response.status_code == 503 and isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return "busy"
    return f"HTTP {response.status_code}"


class Soak:
    """The load's threads against one running server, until ``ends_at``."""

    def __init__(self, base: str, token: str, ends_at: float, askers: int, idle: int, timeout: float) -> None:
        self.base, self.token, self.ends_at = base, token, ends_at
        self.host, self.port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        self.askers, self.idle, self.timeout = askers, idle, timeout
        self.tally = Tally()
        self.books = [book(size, seed) for seed, size in enumerate((50_000, 80_000, 120_000, 160_000, 200_000, 60_000))]

    def running(self) -> bool:
        return time.monotonic() < self.ends_at

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=self.timeout + 30)

    def timed(self, kind: str, http: httpx.Client, method: str, path: str, **content) -> None:
        started = time.perf_counter()
        try:
            response = http.request(method, path, **content)
        except httpx.HTTPError as error:
            self.tally.record(kind, type(error).__name__)
            return
        outcome = outcome_of(response)
        self.tally.record(kind, outcome, time.perf_counter() - started if outcome == "ok" else None)

    def ask(self, seed: int) -> None:
        rng = random.Random(seed)
        with self.client() as http:
            while self.running():
                text = rng.choice(self.books)
                choice = rng.random()
                if choice < 0.7:
                    self.timed("ask", http, "POST", "/v1/ask", json={"text": text, "question": QUESTION})
                elif choice < 0.85:
                    pairs = [{"text": text, "question": QUESTION}, {"text": FACT, "question": "When was it founded?"}]
                    self.timed("batch", http, "POST", "/predict/reading-assistant", json={"data": pairs})
                else:
                    upload = {"file": ("book.txt", text.encode())}
                    self.timed("upload", http, "POST", "/v1/ask", files=upload, data={"question": QUESTION})

    def health(self) -> None:
        with self.client() as http:
            while self.running():
                self.timed("health", http, "GET", "/health")
                time.sleep(0.5)

    def idle_sockets(self) -> None:
        """Keep ``idle`` connections open that never send a byte; count those the server closes."""
        sockets: list[socket.socket] = []
        try:
            while self.running():
                for connection in list(sockets):
                    connection.setblocking(False)
                    try:
                        closed = connection.recv(1) == b""
                    except BlockingIOError:
                        closed = False
                    except OSError:
                        closed = True
                    if closed:
                        sockets.remove(connection)
                        connection.close()
                        self.tally.record("idle socket", "closed by the server")
                while len(sockets) < self.idle:
                    try:
                        sockets.append(socket.create_connection((self.host, self.port), timeout=5))
                        self.tally.record("idle socket", "opened")
                    except OSError as error:
                        self.tally.record("idle socket", f"cannot connect: {type(error).__name__}")
                        break
                time.sleep(1.0)
        finally:
            for connection in sockets:
                connection.close()

    def slow_client(self) -> None:
        """A header line a second; how long until the server closes the connection."""
        while self.running():
            started = time.monotonic()
            with socket.create_connection((self.host, self.port), timeout=5) as connection:
                lines = [b"GET /health HTTP/1.1\r\n", f"Host: {self.host}\r\n".encode()]
                lines += [f"X-Slow-{n}: {n}\r\n".encode() for n in range(120)]
                for line in lines:
                    if not self.running():
                        return
                    try:
                        connection.sendall(line)
                        connection.settimeout(1.0)
                        connection.recv(4096)  # returns only when the server answers (408) or closes
                    except TimeoutError:
                        continue  # still open: the next line
                    except OSError:
                        pass
                    self.tally.note("slow client closed after (s)", time.monotonic() - started)
                    self.tally.record("slow client", "closed by the server")
                    break
                else:
                    self.tally.record("slow client", "never closed")

    def abandon(self) -> None:
        """Every 5 s: a long read (every window of the largest book) whose client hangs up after 1 s."""
        payload = json.dumps({"text": max(self.books, key=len), "question": QUESTION, "max_windows": 0})
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        while self.running():
            connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                connection.request("POST", "/v1/ask", body=payload, headers=headers)
                time.sleep(1.0)
                self.tally.record("abandoned", "sent")
            except OSError as error:
                self.tally.record("abandoned", f"cannot send: {type(error).__name__}")
            finally:
                connection.close()
            time.sleep(4.0)

    def run(self) -> Tally:
        work = [self.health, self.idle_sockets, self.slow_client, self.slow_client, self.abandon]
        threads = [threading.Thread(target=target, daemon=True) for target in work]
        threads += [threading.Thread(target=self.ask, args=(seed,), daemon=True) for seed in range(self.askers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, self.ends_at - time.monotonic()) + self.timeout + 60)
        return self.tally


def rss_mb(pid: int) -> float | None:
    """A process's resident memory in MB (Linux's /proc; None elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(config: Path, model: str | None, timeout: float, log: Path) -> tuple[subprocess.Popen, str, str]:
    """``reading-assistant serve`` on a free loopback port: the process, its address and its token."""
    port = free_port()
    command = [sys.executable, "-m", "reading_assistant", "serve", "--port", str(port), "--device", "cpu"]
    command += ["--timeout", f"{timeout:g}", *(["--model", model] if model else [])]
    environment = {**os.environ, "READING_ASSISTANT_CONFIG_DIR": str(config)}
    with log.open("w") as stderr:
        process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=stderr)
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            token = (config / "server-token").read_text().strip()
            if httpx.get(f"{base}/health", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                return process, base, token
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    process.kill()
    said = log.read_text(errors="replace").strip().splitlines()
    raise ServerDidNotStart(f"the server did not start: {said[-1] if said else 'it said nothing'}")


class ServerDidNotStart(Exception):
    pass


def percentiles(values: list[float]) -> str:
    if not values:
        return "no latencies"
    ordered = sorted(values)

    def at(p: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    return f"p50 {at(50):.0f} ms, p90 {at(90):.0f} ms, p99 {at(99):.0f} ms, max {1000 * ordered[-1]:.0f} ms"


@dataclass
class SoakResult:
    """What one soak measured."""

    minutes: float
    askers: int
    idle: int
    tally: Tally
    rss: list[tuple[float, float]]  # (seconds since the load began, MB)
    warm_up: float  # seconds; memory growth is counted after it
    stderr: str  # the server's standard error

    def errors(self) -> dict[str, int]:
        """Every outcome that is not a fine one, by kind: "ask: HTTP 500" -> 2."""
        return {
            f"{kind}: {outcome}": count
            for kind, counts in self.tally.outcomes.items()
            for outcome, count in counts.items()
            if outcome not in FINE[kind]
        }

    def growth(self) -> float | None:
        after_warm_up = [rss for seconds, rss in self.rss if seconds >= self.warm_up]
        return after_warm_up[-1] - after_warm_up[0] if after_warm_up else None

    def missed(self) -> list[str]:
        errors, tracebacks, growth = sum(self.errors().values()), self.stderr.count("Traceback"), self.growth()
        return [
            *([f"{errors} errors"] if errors else []),
            *([f"{tracebacks} tracebacks on the server's standard error"] if tracebacks else []),
            *([f"memory grew {growth:.0f} MB"] if growth is not None and growth > GROWTH_TARGET_MB else []),
        ]

    def summary(self) -> str:
        lines = [f"server soak: {self.minutes:g} min, {self.askers} askers, {self.idle} idle sockets, 2 slow clients"]
        for kind in sorted(self.tally.outcomes):
            listed = ", ".join(f"{outcome} {count}" for outcome, count in sorted(self.tally.outcomes[kind].items()))
            if kind in self.tally.latencies:
                listed += f"; answered in {percentiles(self.tally.latencies[kind])}"
            lines.append(f"  {kind:12} {listed}")
        for what, values in sorted(self.tally.notes.items()):
            lines.append(f"  {what}: min {min(values):.1f}, max {max(values):.1f}")
        stderr = self.stderr.splitlines()
        lines.append(f"  server stderr: {len(stderr)} lines, {self.stderr.count('Traceback')} tracebacks")
        growth = self.growth()
        if growth is None:
            lines.append("  memory (RSS): not measured on this system")
        else:
            after_warm_up = [rss for seconds, rss in self.rss if seconds >= self.warm_up]
            peak = max(rss for _, rss in self.rss)
            lines.append(
                f"  memory (RSS): {self.rss[0][1]:.0f} MB at first, {after_warm_up[0]:.0f} MB after the warm-up "
                f"({self.warm_up:.0f} s), {after_warm_up[-1]:.0f} MB at the end, peak {peak:.0f} MB: "
                f"growth {growth:+.1f} MB (target: at most {GROWTH_TARGET_MB:g})"
            )
        missed = self.missed()
        lines.append(f"verdict: {'targets missed: ' + ', '.join(missed) if missed else 'every target met'}")
        return "\n".join(lines)


def soak(
    minutes: float, askers: int = 4, idle: int = 40, model: str | None = None, timeout: float = 30.0
) -> SoakResult:
    """Run the server under the load for ``minutes``; what it measured."""
    with tempfile.TemporaryDirectory(prefix="reading-assistant-soak-") as folder:
        log = Path(folder) / "server.stderr"
        process, base, token = start_server(Path(folder) / "config", model, timeout, log)
        samples: list[tuple[float, float]] = []
        sampler_stop = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            while True:
                rss = rss_mb(process.pid)
                if rss is not None:
                    samples.append((time.monotonic() - started, rss))
                if sampler_stop.wait(2.0):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        try:
            sampler.start()
            tally = Soak(base, token, time.monotonic() + minutes * 60, askers, idle, timeout).run()
        finally:
            sampler_stop.set()
            sampler.join(10)
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        stderr = log.read_text(errors="replace")
    return SoakResult(minutes, askers, idle, tally, samples, min(30.0, minutes * 60 / 5), stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reading_assistant.evaluation.server_soak",
        description="The local server under mixed bounded load: latency, outcomes, memory growth.",
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default: 10)")
    parser.add_argument("--askers", type=int, default=4, help="clients asking questions at once (default: 4)")
    parser.add_argument("--idle", type=int, default=40, help="idle sockets kept open (default: 40)")
    parser.add_argument("--model", help="the model the server runs (default: the bundled one)")
    parser.add_argument("--timeout", type=float, default=30.0, help="the server's request time limit (default: 30)")
    arguments = parser.parse_args(argv)
    # Within one client's connection bound (64), with room for the askers and the rest.
    if not 0 < arguments.minutes <= 24 * 60 or not 1 <= arguments.askers <= 16 or not 0 <= arguments.idle <= 40:
        parser.error("--minutes must be in (0, 1440], --askers in [1, 16], --idle in [0, 40]")
    try:
        result = soak(arguments.minutes, arguments.askers, arguments.idle, arguments.model, arguments.timeout)
    except ServerDidNotStart as error:
        print(f"server_soak: {error}", file=sys.stderr)
        return 2
    print(result.summary())
    return 1 if result.missed() else 0


if __name__ == "__main__":
    sys.exit(main())
