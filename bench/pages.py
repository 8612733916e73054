"""Benchmark: the programme page and the JSON API under gunicorn on SQLite, next to /healthz.

    python -m bench pages        (or: python -m bench.pages)

Starts gunicorn with deploy/gunicorn.conf.py (workers from the CPU count, access log off) on a
loopback port against a temporary seeded SQLite database, then drives each URL with CLIENTS
concurrent keep-alive clients (threads) for SECONDS seconds or MAX_REQUESTS requests, whichever
comes first. The client runs on the same machine as the server: the absolute figures are the
machine's, the ratio to /healthz (a database round trip and nothing else) is the portable figure.
Tunable with BENCH_CLIENTS, BENCH_SECONDS, BENCH_WORKERS.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = "20-ans-canceropoles"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 16))
SECONDS = float(os.environ.get("BENCH_SECONDS", 5))
MAX_REQUESTS = 20_000
WARM_UP_SECONDS = 1.0
URLS = {
    "healthz (trivial)": "/healthz",
    "programme page": f"/events/{SLUG}/programme",
    "JSON API": f"/api/events/{SLUG}",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_database(directory: Path) -> str:
    from seminar import create_app
    from seminar.events.seed import seed_anniversary_seminar
    from seminar.extensions import db

    uri = f"sqlite:///{directory / 'bench.sqlite'}"
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": str(directory)})
    with app.app_context():
        db.create_all()
        seed_anniversary_seminar()
        db.engine.dispose()
    return uri


class Server:
    def __init__(self, directory: Path, uri: str, env: dict[str, str] | None = None):
        self.port = _free_port()
        self.log = directory / "gunicorn.log"
        env = {**os.environ, "SEMINAR_SECRET_KEY": "bench", "SEMINAR_SQLALCHEMY_DATABASE_URI": uri,
               "SEMINAR_INSTANCE_PATH": str(directory), "SEMINAR_RATELIMIT_ENABLED": "false",
               "SEMINAR_MAIL_DELIVER_AFTER_COMMIT": "false", "SEMINAR_BIND": f"127.0.0.1:{self.port}",
               "SEMINAR_ACCESS_LOG": "", "SEMINAR_LOG_LEVEL": "warning", **(env or {})}
        if os.environ.get("BENCH_WORKERS"):
            env["SEMINAR_WORKERS"] = os.environ["BENCH_WORKERS"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
                 "seminar:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def workers(self) -> int:
        return int(os.environ.get("BENCH_WORKERS") or min(2 * len(os.sched_getaffinity(0)) + 1, 12))

    def threads(self) -> int:
        return int(os.environ.get("SEMINAR_THREADS") or 1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def load(port: int, path: str, seconds: float, clients: int = CLIENTS) -> dict:
    """Requests per second and latency percentiles with `clients` concurrent keep-alive connections."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    budget = threading.Semaphore(MAX_REQUESTS)
    stop_at = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        codes: dict[int, int] = {}
        while time.monotonic() < stop_at and budget.acquire(blocking=False):
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                code = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                code = 0
            mine.append(time.perf_counter() - started)
            codes[code] = codes.get(code, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"rps": len(latencies) / elapsed, "p50": cut[49] * 1000, "p95": cut[94] * 1000, "p99": cut[98] * 1000,
            "requests": len(latencies), "failed": sum(n for code, n in statuses.items() if code != 200)}


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="seminar-bench-") as tmp:
        directory = Path(tmp)
        server = Server(directory, _prepare_database(directory))
        try:
            results = {}
            for name, path in URLS.items():
                load(server.port, path, WARM_UP_SECONDS)
                results[name] = load(server.port, path, SECONDS)
        finally:
            server.stop()
    trivial = results["healthz (trivial)"]["rps"]
    setting = f"gunicorn {server.workers()} workers, SQLite, {CLIENTS} clients"
    for name, result in results.items():
        note = (f"p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms; "
                f"{result['requests']} requests, {result['failed']} failed; {setting}")
        rows.append({"benchmark": f"pages: {name}", "metric": "requests/s", "value": round(result["rps"], 1),
                     "baseline": round(trivial, 1), "ratio": round(result["rps"] / trivial, 2), "note": note})
    return rows


if __name__ == "__main__":
    from bench.__main__ import format_table

    print(format_table(run()))
