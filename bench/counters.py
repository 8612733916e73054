"""Benchmark: counts that do not grow with the event — the pages that show places, and a registration, with SMALL
and then LARGE registrations in the database.

    python -m bench counters        (or: python -m bench.counters)

In-process, with Flask's test client, on a temporary SQLite database; and on PostgreSQL too when
BENCH_POSTGRESQL_URL is set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench_counters: created if missing,
its public schema dropped and created again, as the test suite does). The anniversary seminar is seeded a year
ahead (registration open), the event's and the round tables' capacities raised to CAPACITY, then registrations
are bulk-inserted as a real event holds them (confirmed, one round-table seat each, spread over the round tables)
and the ledger's counters set with `recount` (PostgreSQL: then ANALYZE, as autovacuum would after such a load).

With SMALL, then with LARGE registrations, REQUESTS rounds (after WARM_UP) of, interleaved so that the machine's
drift weighs on each alike: GET the event page, GET the registration form (both show places), GET the speakers
page (the control: it shows no places), POST a registration from the public form (a new address each time, one
round table; the 303 is not followed). Each state's POSTs add WARM_UP + REQUESTS registrations to it.

value: the median at LARGE; baseline: the median at SMALL, same process, same database; ratio = value / baseline.
Places are read from the ledger's counters, never counted from the rows, so the target is a ratio ≤ 1.2 for the
event page, the form and the POST; a page or a POST that counts registrations shows as a ratio that grows with
LARGE / SMALL. On a busy machine a median of a few milliseconds drifts between the two measurements: the
control's ratio is that drift, and each row's note gives its ratio divided by the control's.
Tunable with BENCH_REQUESTS.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

SMALL = 300
LARGE = 20_000
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 200))
WARM_UP = 20
CAPACITY = 100_000
CHUNK = 2_000
PG_URL = os.environ.get("BENCH_POSTGRESQL_URL")
# A page that shows no places (the speakers): its ratio is the machine's drift between the two measurements.
CONTROL = "speakers page (control)"


def open_seminar_app(uri: str, directory: Path):
    """The app as tests/conftest.py `make_app` builds it, on an empty schema, seeded; returns (app, slug)."""
    from sqlalchemy import text

    from seminar import create_app
    from seminar.events.seed import seed_anniversary_seminar
    from seminar.extensions import db

    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri, "INSTANCE_PATH": str(directory),
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "MAIL_DELIVER_AFTER_COMMIT": False, "MAIL_URL": None,
        "BASE_URL": "http://seminar.bench",
    })
    with app.app_context():
        if uri.startswith("postgresql"):
            _create_database_if_missing(uri)
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        db.create_all()
        event, _ = seed_anniversary_seminar(date(date.today().year + 1, 11, 28))
        slug = event.slug
        _open_up(event.id)
        db.session.remove()
    return app, slug


def _create_database_if_missing(url: str) -> None:
    """The benchmark's PostgreSQL database, created on its server when it does not exist yet."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                      {"name": target.database}).scalar():
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _open_up(event_id: int) -> None:
    """Room for everyone: the event's and its round tables' capacities raised to CAPACITY."""
    from sqlalchemy import update

    from seminar.database import write_transaction
    from seminar.events.models import Event, Session
    from seminar.extensions import db

    with write_transaction():
        db.session.execute(update(Event).where(Event.id == event_id).values(capacity=CAPACITY))
        db.session.execute(update(Session).where(Session.event_id == event_id, Session.takes_registrations)
                           .values(capacity=CAPACITY))


def fill_to(event_id: int, total: int) -> int:
    """Bulk-insert confirmed registrations, each with one confirmed seat in a round table (in turn), until the
    event has `total`; then `recount`. Returns how many were added."""
    from sqlalchemy import func, insert, select, text

    from seminar.database import write_transaction
    from seminar.events.models import Event, Session
    from seminar.extensions import db
    from seminar.registration.ledger import recount
    from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat

    with write_transaction():
        have = db.session.scalar(select(func.count()).where(Registration.event_id == event_id))
        category_id = db.session.scalar(select(Event).where(Event.id == event_id)).categories[0].id
        tables = db.session.scalars(select(Session.id).where(Session.event_id == event_id,
                                                             Session.takes_registrations).order_by(Session.id)).all()
        registrations = insert(Registration.__table__).returning(Registration.__table__.c.id,
                                                                 sort_by_parameter_order=True)
        for start in range(have, total, CHUNK):
            chunk = range(start, min(start + CHUNK, total))
            rows = [{"event_id": event_id, "first_name": f"Person{n}", "last_name": "Bench",
                     "email": f"person{n}@example.org", "email_key": f"person{n}@example.org",
                     "category_id": category_id, "status": RegistrationStatus.confirmed.name,
                     "token_hash": hashlib.sha256(f"bench-{n}".encode()).hexdigest()} for n in chunk]
            ids = db.session.scalars(registrations, rows).all()
            db.session.execute(insert(SessionSeat.__table__), [
                {"registration_id": registration_id, "session_id": tables[n % len(tables)],
                 "status": SeatStatus.confirmed.name} for n, registration_id in zip(chunk, ids, strict=True)])
        recount(event_id)
        if db.session.get_bind().dialect.name == "postgresql":
            # As autovacuum would after such a load: fresh statistics, and plans cached by the pool's connections
            # (psycopg prepares repeated statements) made again. Without it they keep plans chosen for a table
            # of SMALL rows.
            db.session.execute(text("ANALYZE registration, session_seat"))
    return total - have


def _expect(response, status: int) -> None:
    if response.status_code != status:  # a median of error pages would measure nothing
        raise RuntimeError(f"{response.request.method} {response.request.path}: {response.status_code}, not {status}")


def measure(app, slug: str, emails) -> dict[str, float]:
    """Median milliseconds of each of REQUESTS rounds of: the event page, the registration form, the control page
    and a registration POST (interleaved, so that the machine's drift weighs on each alike)."""
    from seminar.events.services import get_event

    with app.app_context():
        event = get_event(slug)
        form = {"first_name": "Claude", "last_name": "Bench", "organisation": "Cancéropôle Est",
                "job_title": "Chercheuse", "category": str(event.categories[0].id),
                "sessions": str(next(s.id for s in event.sessions if s.takes_registrations)),
                "dietary": "", "accessibility": "", "consent_privacy": "y"}
    client = app.test_client()

    def get(path):
        return lambda: _expect(client.get(path), 200)

    def post():
        _expect(client.post(f"/events/{slug}/register", data={**form, "email": next(emails)}), 303)

    requests = {"event page": get(f"/events/{slug}/"), "registration form": get(f"/events/{slug}/register"),
                CONTROL: get(f"/events/{slug}/speakers"), "registration POST": post}
    for request in requests.values():
        for _ in range(WARM_UP):
            request()
    timings: dict[str, list[float]] = {name: [] for name in requests}
    for _ in range(REQUESTS):
        for name, request in requests.items():
            started = time.perf_counter()
            request()
            timings[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


def run_backend(name: str, uri: str, directory: Path) -> list[dict]:
    from sqlalchemy import func, select

    from seminar.events.models import Event
    from seminar.extensions import db
    from seminar.registration.models import Registration

    app, slug = open_seminar_app(uri, directory)
    emails = (f"visitor{n}@example.org" for n in itertools.count())
    timings = {}
    try:
        for total in (SMALL, LARGE):
            with app.app_context():
                fill_to(db.session.scalar(select(Event.id).where(Event.slug == slug)), total)
                db.session.remove()
            timings[total] = measure(app, slug, emails)
        with app.app_context():
            counter, rows = db.session.execute(select(Event.confirmed_count, select(func.count()).where(
                Registration.event_id == Event.id).scalar_subquery()).where(Event.slug == slug)).one()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    note = (f"{LARGE:,} vs {SMALL:,} registrations, {name}; median of {REQUESTS}, interleaved (each state's POSTs "
            f"add {WARM_UP + REQUESTS} more; at the end: counter {counter:,}, rows {rows:,})")
    drift = timings[LARGE][CONTROL] / timings[SMALL][CONTROL]
    return [{"benchmark": f"counters: {what}", "metric": "median ms", "value": round(timings[LARGE][what], 2),
             "baseline": round(timings[SMALL][what], 2), "ratio": round(timings[LARGE][what] / timings[SMALL][what], 2),
             "note": note if what == CONTROL else
             f"ratio ÷ control's: {timings[LARGE][what] / timings[SMALL][what] / drift:.2f}; {note}"}
            for what in timings[SMALL]]


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="seminar-bench-counters-") as tmp:
        directory = Path(tmp)
        rows += run_backend("SQLite", f"sqlite:///{directory / 'bench.sqlite'}", directory)
        if PG_URL:
            try:
                rows += run_backend("PostgreSQL", PG_URL, directory)
            except Exception as error:  # noqa: BLE001  (the SQLite rows are kept)
                rows.append({"benchmark": "counters (PostgreSQL)", "metric": "error", "value": None, "baseline": None,
                             "ratio": None, "note": f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"})
    return rows


if __name__ == "__main__":
    from bench.__main__ import format_table

    print(format_table(run()))
