"""Benchmark: registrations under gunicorn, on PostgreSQL and on SQLite, next to /healthz on the same server.

    python -m bench registration        (or: python -m bench.registration)

For each backend: a fresh database (PostgreSQL: `benchpg`, dropped and created again; SQLite: a temporary
file) brought up with `flask db upgrade` and `flask seed`, then, as deploy/ lays out production: gunicorn
with deploy/gunicorn.conf.py on a loopback port, and beside it the outbox worker (`flask outbox deliver
--watch`, on the CPU the web processes leave idle, as deploy/seminar-outbox.service runs it) that writes
and sends the e-mails (to .eml files). Rate limiting off (SEMINAR_RATELIMIT_ENABLED=false), CSRF on.
Then, on that one server:

1. /healthz with CLIENTS concurrent keep-alive clients: the trivial endpoint's throughput (the baseline);
2. CLIENTS clients, each like a browser: GET the form (session cookie, CSRF token, category and round-table
   choices read from the page), then POST registrations for the event and the same round table (distinct
   addresses, one after another, each POST with the cookie and token) for SECONDS seconds or
   MAX_REGISTRATIONS in all. The redirect (303) is not followed: a registration is one POST.

Afterwards the outbox worker is given up to DRAIN_SECONDS to write and send every e-mail (the time it took
is reported: mail lags behind a rush, by design), then the database is read: confirmed registrations must
not exceed the event's capacity nor confirmed seats the round table's (the seed: 300 and 120, so a run of
more than 300 also exercises the waiting lists); every 303 must be a saved registration; no 5xx.
PostgreSQL is skipped (a row says why) when BENCH_DATABASE_URL (default: postgres@127.0.0.1/benchpg) cannot
be reached.
Tunable with BENCH_CLIENTS (default 50), BENCH_SECONDS, BENCH_WORKERS, BENCH_DATABASE_URL.
"""

from __future__ import annotations

import html
import http.client
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.pages import ROOT, SLUG, Server, load

CLIENTS = int(os.environ.get("BENCH_CLIENTS", 50))
SECONDS = float(os.environ.get("BENCH_SECONDS", 8))
MAX_REGISTRATIONS = 3000
DRAIN_SECONDS = 300
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/benchpg")
FORM_PATH = f"/events/{SLUG}/register"
# The form's hidden token and its choices, read from the page as a browser would use them.
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"'
                        r'|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"')
SESSION_CHOICE = re.compile(r'name="sessions"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="sessions"')
CATEGORY_SELECT = re.compile(r'<select[^>]*name="category".*?</select>', re.S)
OPTION_VALUE = re.compile(r'<option[^>]*value="(\d+)"')


def _flask(uri: str, directory: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "seminar", *args], cwd=ROOT, env=_flask_env(uri, directory),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _recreate_postgresql(url: str) -> None:
    """Drop and create the benchmark database (connected to the server's `postgres` database)."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _flask_env(uri: str, directory: Path) -> dict[str, str]:
    return {**os.environ, "SEMINAR_SECRET_KEY": "bench", "SEMINAR_SQLALCHEMY_DATABASE_URI": uri,
            "SEMINAR_INSTANCE_PATH": str(directory)}


class OutboxWorker:
    """`flask outbox deliver --watch` under SCHED_IDLE, as deploy/seminar-outbox.service runs it."""

    def __init__(self, uri: str, directory: Path):
        self.log = (directory / "outbox.log").open("wb")
        self.process = subprocess.Popen(
            ["chrt", "--idle", "0", sys.executable, "-m", "flask", "--app", "seminar", "outbox", "deliver",
             "--watch", "--interval", "1"],
            cwd=ROOT, env=_flask_env(uri, directory), stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def _wait_for_mail(uri: str, seconds: float) -> float | None:
    """Seconds until no e-mail is left to write or send (None: not within `seconds`)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(uri)
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            with engine.connect() as connection:
                left = connection.execute(text(
                    "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')")).scalar()
            if not left:
                return time.monotonic() - started
            time.sleep(0.5)
        return None
    finally:
        engine.dispose()


def _prepare(uri: str, directory: Path) -> None:
    if uri.startswith("postgresql"):
        _recreate_postgresql(uri)
    _flask(uri, directory, "db", "upgrade")
    _flask(uri, directory, "seed")


class Browser:
    """One keep-alive connection with its cookies, like one browser tab."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, ""
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text


def _read_form(page: str) -> tuple[str, str, str]:
    """(csrf token, first category id, first round-table id) from the registration page."""
    token = next(filter(None, CSRF_INPUT.search(page).groups()))
    session_id = next(filter(None, SESSION_CHOICE.search(page).groups()))
    category_id = OPTION_VALUE.search(CATEGORY_SELECT.search(page).group(0)).group(1)
    return html.unescape(token), category_id, session_id


def register_load(port: int, seconds: float, clients: int = CLIENTS, limit: int = MAX_REGISTRATIONS) -> dict:
    """CLIENTS browsers: each GETs the form once, then POSTs registrations until the time or count is up."""
    numbers = itertools.count()
    budget = threading.Semaphore(limit)
    lock = threading.Lock()
    deadline: list[float] = []
    # Every browser has its form: the timed part starts when the last one is ready.
    ready = threading.Barrier(clients + 1, action=lambda: deadline.append(time.monotonic() + seconds))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    problems: list[str] = []
    round_table: list[str] = []

    def browser() -> None:
        tab = Browser(port)
        try:
            status, page = tab.request("GET", FORM_PATH)
            token, category_id, session_id = _read_form(page) if status == 200 else (None, None, None)
        except Exception as error:  # noqa: BLE001  (reported, never raised from a thread)
            token, problems[:] = None, [*problems, repr(error)]
        ready.wait()
        if token is None:
            return
        with lock:
            round_table[:] = [session_id]
        mine, codes = [], {}
        while time.monotonic() < deadline[0] and budget.acquire(blocking=False):
            n = next(numbers)
            body = urllib.parse.urlencode({
                "csrf_token": token, "first_name": f"Claude{n}", "last_name": "Bench", "email": f"bench{n}@example.org",
                "organisation": "Cancéropôle Île-de-France", "job_title": "Chercheuse", "category": category_id,
                "sessions": session_id, "dietary": "", "accessibility": "", "consent_privacy": "y",
            })
            started = time.perf_counter()
            status, _page = tab.request("POST", FORM_PATH, body)
            mine.append(time.perf_counter() - started)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=browser) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"rps": statuses.get(303, 0) / elapsed, "p50": cut[49] * 1000, "p95": cut[94] * 1000,
            "p99": cut[98] * 1000, "posts": len(latencies), "statuses": statuses, "problems": problems,
            "round_table": int(round_table[0]) if round_table else None}


def _verify(uri: str, round_table: int | None) -> dict:
    """What the database holds after the run: registrations, confirmed against capacity, outbox messages."""
    from sqlalchemy import create_engine, text

    engine = create_engine(uri)
    try:
        with engine.connect() as connection:
            one = connection.execute

            def scalar(sql: str, **params):
                return one(text(sql), params).scalar()

            event_id, event_capacity = one(text("SELECT id, capacity FROM event WHERE slug = :s"), {"s": SLUG}).one()
            table_capacity = scalar("SELECT capacity FROM session WHERE id = :i", i=round_table)
            return {
                "registrations": scalar("SELECT count(*) FROM registration WHERE event_id = :e", e=event_id),
                "confirmed": scalar("SELECT count(*) FROM registration WHERE event_id = :e AND status = 'confirmed'",
                                    e=event_id),
                "event_capacity": event_capacity,
                "table_confirmed": scalar("SELECT count(*) FROM session_seat WHERE session_id = :i "
                                          "AND status = 'confirmed'", i=round_table),
                "table_capacity": table_capacity,
                "without_mail": scalar("SELECT count(*) FROM registration r WHERE NOT EXISTS (SELECT 1 FROM "
                                       "outbox_message m WHERE m.registration_id = r.id)"),
                "mail": dict(one(text("SELECT status, count(*) FROM outbox_message GROUP BY status")).all()),
                "mail_errors": scalar("SELECT count(*) FROM outbox_message WHERE last_error <> ''"),
            }
    finally:
        engine.dispose()


def _reachable(url: str) -> str | None:
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(make_url(url).set(database="postgres"), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    finally:
        engine.dispose()


def run_backend(name: str, uri: str, directory: Path) -> list[dict]:
    _prepare(uri, directory)
    server = Server(directory, uri)
    worker = OutboxWorker(uri, directory)
    try:
        load(server.port, "/healthz", 1.0, clients=CLIENTS)  # warm-up: every worker has connected
        trivial = load(server.port, "/healthz", SECONDS, clients=CLIENTS)
        result = register_load(server.port, SECONDS)
        drained = _wait_for_mail(uri, DRAIN_SECONDS)
    finally:
        server.stop()
        worker.stop()
    check = _verify(uri, result["round_table"])
    errors_5xx = sum(n for code, n in result["statuses"].items() if code >= 500 or code == 0)
    overbooked = max(check["confirmed"] - check["event_capacity"], 0) + max(
        check["table_confirmed"] - check["table_capacity"], 0)
    lost = result["statuses"].get(303, 0) - check["registrations"]
    setting = f"gunicorn {server.workers()} workers × {server.threads()} threads, {name}, {CLIENTS} clients"
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(result["statuses"].items()))
    base = trivial["rps"]
    rows = [
        {"benchmark": f"registration ({name})", "metric": "registrations/s", "value": round(result["rps"], 1),
         "baseline": round(base, 1), "ratio": round(result["rps"] / base, 2),
         "note": f"baseline: /healthz req/s on the same server; {result['posts']} POSTs ({codes}); {setting}"},
        {"benchmark": f"registration ({name})", "metric": "POST p50 ms", "value": round(result["p50"], 1),
         "baseline": round(trivial["p50"], 1), "ratio": None, "note": "baseline: /healthz p50 ms"},
        {"benchmark": f"registration ({name})", "metric": "POST p95 ms", "value": round(result["p95"], 1),
         "baseline": round(trivial["p95"], 1), "ratio": None, "note": "baseline: /healthz p95 ms"},
        {"benchmark": f"registration ({name})", "metric": "POST p99 ms", "value": round(result["p99"], 1),
         "baseline": round(trivial["p99"], 1), "ratio": None, "note": "target < 250 ms; baseline: /healthz p99 ms"},
        {"benchmark": f"registration ({name})", "metric": "overbooked", "value": overbooked, "baseline": None,
         "ratio": None, "note": f"confirmed {check['confirmed']}/{check['event_capacity']} event, "
                                f"{check['table_confirmed']}/{check['table_capacity']} round table; "
                                f"{check['registrations']} saved, {lost} answered 303 but not saved, "
                                f"{check['without_mail']} without e-mail; all e-mail written and sent "
                                f"{_seconds(drained)} after the run; outbox then: "
                                f"{', '.join(f'{k} {v}' for k, v in sorted(check['mail'].items()))}, "
                                f"{check['mail_errors']} with an error"},
        {"benchmark": f"registration ({name})", "metric": "5xx or failed", "value": errors_5xx, "baseline": None,
         "ratio": None, "note": "; ".join(result["problems"][:2]) or f"/healthz failures: {trivial['failed']}"},
    ]
    return rows


def _seconds(drained: float | None) -> str:
    return f"{drained:.0f} s" if drained is not None else f"NOT within {DRAIN_SECONDS} s"


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="seminar-bench-reg-") as tmp:
        directory = Path(tmp)
        problem = _reachable(PG_URL)
        if problem:
            rows.append({"benchmark": "registration (PostgreSQL)", "metric": "skipped", "value": None,
                         "baseline": None, "ratio": None, "note": f"{PG_URL} unreachable: {problem}"})
        else:
            (directory / "pg").mkdir()
            rows += run_backend("PostgreSQL", PG_URL, directory / "pg")
        (directory / "sqlite").mkdir()
        rows += run_backend("SQLite", f"sqlite:///{directory / 'sqlite' / 'bench.sqlite'}", directory / "sqlite")
    return rows


if __name__ == "__main__":
    from bench.__main__ import format_table

    print(format_table(run()))
