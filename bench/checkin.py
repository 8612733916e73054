"""Benchmark: the check-in scan round trip, as a desk sees it, under gunicorn on SQLite.

    python -m bench checkin        (or: python -m bench.checkin)

Seeds a temporary SQLite database with the anniversary seminar and REGISTRANTS confirmed registrants,
starts gunicorn as bench/pages.py does (production config: CSRF on), signs a check-in account in, then
POSTs /checkin/<slug>/scan with each badge's signed code over one keep-alive connection: first scans
(a check-in is written) and repeat scans (already checked in), then DESKS desks at once. The target of
issue 7 is a round trip well under 50 ms; /healthz (one database round trip) is the baseline.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.pages import SLUG, Server, _prepare_database

REGISTRANTS = int(os.environ.get("BENCH_REGISTRANTS", 300))
DESKS = int(os.environ.get("BENCH_DESKS", 4))
PASSWORD = "Bench-desk-password-42"  # noqa: S105  (throw-away accounts in a temporary database)
TARGET_MS = 50.0


def _add_people(uri: str, directory: Path) -> list[str]:
    """Registrants and desk accounts; returns the badge codes."""
    from seminar import create_app
    from seminar.accounts.models import Role
    from seminar.accounts.services import create_user
    from seminar.badges.codes import make_checkin_code
    from seminar.events.services import get_event
    from seminar.extensions import db
    from seminar.registration.models import Registration, RegistrationSource
    from seminar.registration.services import RegistrationDetails, register

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": str(directory)})
    with app.app_context():
        event = get_event(SLUG)
        event.capacity = None
        db.session.commit()
        for n in range(REGISTRANTS):
            details = RegistrationDetails(first_name=f"Person{n}", last_name="Bench", email=f"p{n}@example.org")
            register(event.id, details, [], source=RegistrationSource.organiser, notify=False)
        for n in range(DESKS):
            create_user(f"desk{n}@example.org", PASSWORD, Role.checkin)
        codes = [make_checkin_code(r) for r in db.session.scalars(db.select(Registration).order_by(Registration.id))]
        db.engine.dispose()
    return codes


class Desk:
    """One signed-in desk on a keep-alive connection (session cookie and CSRF token kept)."""

    def __init__(self, port: int, email: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""
        page = self.request("GET", "/login")[1]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
        form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
        status, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, f"login failed: {status}"
        page = self.request("GET", f"/checkin/{SLUG}")[1]
        self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)[1]

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = {**(headers or {}), **({"Cookie": self.cookie} if self.cookie else {})}
        self.connection.request(method, path, body, headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, text

    def scan(self, code: str) -> tuple[float, str]:
        started = time.perf_counter()
        status, text = self.request("POST", f"/checkin/{SLUG}/scan", json.dumps({"code": code}),
                                    {"Content-Type": "application/json", "X-CSRFToken": self.csrf})
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, json.loads(text)["status"] if status == 200 else f"HTTP {status}"

    def healthz(self) -> float:
        started = time.perf_counter()
        self.request("GET", "/healthz")
        return (time.perf_counter() - started) * 1000


def _summary(latencies: list[float]) -> dict:
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {"p50": cut[49], "p95": cut[94], "max": max(latencies), "n": len(latencies)}


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="seminar-bench-") as tmp:
        directory = Path(tmp)
        uri = _prepare_database(directory)
        codes = _add_people(uri, directory)
        server = Server(directory, uri)
        try:
            desk = Desk(server.port, "desk0@example.org")
            half = len(codes) // 2
            baseline = _summary([desk.healthz() for _ in range(200)])
            first = [desk.scan(code) for code in codes[:half]]
            repeat = [desk.scan(code) for code in codes[:half]]
            desks = [Desk(server.port, f"desk{n}@example.org") for n in range(DESKS)]
            together: list[tuple[float, str]] = []
            lock = threading.Lock()

            def work(d: Desk, mine: list[str]) -> None:
                results = [d.scan(code) for code in mine]
                with lock:
                    together.extend(results)

            rest = codes[half:]
            threads = [threading.Thread(target=work, args=(d, rest[n::DESKS])) for n, d in enumerate(desks)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.stop()
    rows = []
    for name, results, expected in (("first scan (check-in written)", first, "checked_in"),
                                    ("repeat scan (already checked in)", repeat, "already_checked_in"),
                                    (f"first scans, {DESKS} desks at once", together, "checked_in")):
        latencies = [ms for ms, _ in results]
        wrong = sum(1 for _, status in results if status != expected)
        s = _summary(latencies)
        rows.append({
            "benchmark": f"checkin: {name}", "metric": "p95 ms", "value": round(s["p95"], 1),
            "baseline": round(baseline["p95"], 1), "ratio": round(s["p95"] / baseline["p95"], 2),
            "note": (f"p50 {s['p50']:.1f} ms, max {s['max']:.1f} ms, {s['n']} scans, {wrong} unexpected; "
                     f"target < {TARGET_MS:.0f} ms; baseline /healthz p95; "
                     f"gunicorn {server.workers()} workers, SQLite"),
        })
    return rows


if __name__ == "__main__":
    from bench.__main__ import format_table

    print(format_table(run()))
