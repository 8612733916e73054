"""Benchmark: the programme feed for an event of 200 sessions (target: under 50 ms).

    python -m bench.ical

Timed in-process on an in-memory SQLite database, median of repeats; the baseline is `json.dumps`
of the same data in the same run, so the figure can be read on any machine. Two rows: "cold" empties
the per-process cache of serialised VEVENTs before each generation (the first request after a start or
after every session changed), "warm" reuses it (nothing changed since the previous request).
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import timedelta

SESSIONS = 200
REPEATS = 15
TARGET_MS = 50.0


def _median_ms(work, repeats: int = REPEATS) -> float:
    work()  # warm-up: imports, caches (the VTIMEZONE is built once per process)
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def _event_with_sessions(count: int):
    """The seeded seminar, its programme repeated until it has `count` sessions (same speakers, rooms)."""
    from seminar.events.seed import seed_anniversary_seminar
    from seminar.events.services import get_event
    from seminar.extensions import db

    event, _ = seed_anniversary_seminar()
    templates = list(event.sessions)
    with db.session.no_autoflush:
        _repeat(event, templates, count)
    db.session.commit()
    db.session.expire_all()
    return get_event(event.slug)


def _repeat(event, templates, count: int) -> None:
    from seminar.events.models import Session, SessionSpeaker

    day = 0
    while len(event.sessions) < count:
        day += 1
        for model in templates[: count - len(event.sessions)]:
            copy = Session(kind=model.kind, title=f"{model.title} ({day})", description=model.description,
                           starts_at=model.starts_at + timedelta(days=day), ends_at=model.ends_at + timedelta(days=day),
                           room=model.room, capacity=model.capacity, position=model.position)
            copy.speaker_links = [SessionSpeaker(speaker=link.speaker, role=link.role, position=link.position)
                                  for link in model.speaker_links]
            event.sessions.append(copy)


def _as_json(event) -> str:
    return json.dumps([
        {"id": s.id, "title": s.title, "description": s.description, "starts_at": s.starts_at.isoformat(),
         "ends_at": s.ends_at.isoformat(), "room": s.room.name if s.room else None, "sequence": s.sequence,
         "speakers": [{"name": link.speaker.name, "affiliation": link.speaker.affiliation, "role": link.role.value}
                      for link in s.speaker_links]}
        for s in event.sessions
    ])


def run() -> list[dict]:
    """One row in the shape of bench/__main__.py: median ms of the feed, json.dumps baseline, ratio."""
    from flask_babel import force_locale

    from seminar import create_app
    from seminar.extensions import db
    from seminar.ical.calendar import Site, forget_serialised_vevents, programme_calendar

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "BASE_URL": "https://seminar.example.org"})
    with app.app_context(), force_locale("fr"):
        db.create_all()
        event = _event_with_sessions(SESSIONS)
        site = Site.from_config(app.config)
        assert len(event.sessions) == SESSIONS
        json_ms = _median_ms(lambda: _as_json(event))
        cold_ms = _median_ms(lambda: (forget_serialised_vevents(), programme_calendar(event, site)))
        warm_ms = _median_ms(lambda: programme_calendar(event, site))
        size = len(programme_calendar(event, site))
    rows = []
    for label, ms in (("cold", cold_ms), ("warm", warm_ms)):
        verdict = "met" if ms < TARGET_MS else "MISSED"
        rows.append({
            "benchmark": f"ical: programme feed, {SESSIONS} sessions, {label}", "metric": "median ms",
            "value": round(ms, 2), "baseline": round(json_ms, 2), "ratio": round(ms / json_ms, 1),
            "note": f"target < {TARGET_MS:g} ms {verdict}; baseline json.dumps of the same data; {size} bytes",
        })
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'benchmark':<44} {'metric':<10} {'value':>8} {'baseline':>9} {'ratio':>6}  note")
    for row in rows:
        print(f"{row['benchmark']:<44} {row['metric']:<10} {row['value']:>8.2f} {row['baseline']:>9.2f} "
              f"{row['ratio']:>6}  {row['note']}")


if __name__ == "__main__":
    print_table(run())
