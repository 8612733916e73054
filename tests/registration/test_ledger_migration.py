"""Migration 0004: the round-table seats held by people waiting for the event become wishes, the places they held
go to the next people waiting for those round tables (told through the outbox), and the counters are set."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import upgrade

from seminar import create_app
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration.models import SessionSeat

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
event = sa.table("event", *(sa.column(c) for c in (
    "id", "slug", "title", "subtitle", "description", "organiser", "timezone", "starts_at", "ends_at",
    "registration_closes_at", "capacity", "contact_email", "featured", "times_confirmed", "created_at",
    "updated_at")))
session = sa.table("session", *(sa.column(c) for c in (
    "id", "event_id", "kind", "title", "description", "starts_at", "ends_at", "capacity", "position", "sequence",
    "updated_at")))


def _registration(n: int, status: str) -> dict:
    return {"id": n, "event_id": 1, "first_name": f"P{n}", "last_name": "T", "email": f"p{n}@example.org",
            "email_key": f"p{n}@example.org", "organisation": "", "job_title": "", "dietary": "",
            "accessibility": "", "consent_listing": False, "status": status, "source": "web", "locale": "fr",
            "token_hash": f"{n:064d}", "token_salt": "", "overbooked": False, "ical_sequence": 0,
            "created_at": NOW + timedelta(minutes=n), "updated_at": NOW}


def _seat(n: int, registration_id: int, status: str) -> dict:
    return {"id": n, "registration_id": registration_id, "session_id": 1, "status": status, "ical_sequence": 0,
            "created_at": NOW + timedelta(minutes=registration_id), "updated_at": NOW}


def test_migration_turns_seats_of_waiting_registrants_into_wishes_and_promotes(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"})
    with app.app_context():
        upgrade(revision="0003_registration_window")
        start = NOW + timedelta(days=30)
        with db.engine.begin() as connection:
            connection.execute(event.insert().values(
                id=1, slug="s", title="T", subtitle="", description="", organiser="", timezone="Europe/Paris",
                starts_at=start, ends_at=start + timedelta(hours=8), registration_closes_at=start, capacity=2,
                contact_email="", featured=False, times_confirmed=False, created_at=NOW, updated_at=NOW))
            connection.execute(session.insert().values(
                id=1, event_id=1, kind="round_table", title="Table ronde", description="", starts_at=start,
                ends_at=start + timedelta(hours=1), capacity=2, position=0, sequence=0, updated_at=NOW))
            # 1 and 2 confirmed; 3 waits for the event yet holds a confirmed seat (the bug); 2 waits for the table.
            rows = [_registration(1, "confirmed"), _registration(2, "confirmed"), _registration(3, "waitlisted")]
            # The table as it was at 0003, not the model's (whose later columns the INSERT would name).
            registration = sa.table("registration", *(sa.column(name) for name in rows[0]))
            connection.execute(sa.insert(registration), rows)
            connection.execute(sa.insert(SessionSeat.__table__), [
                _seat(1, 1, "confirmed"), _seat(2, 3, "confirmed"), _seat(3, 2, "waitlisted")])
        upgrade()
        with db.engine.connect() as connection:
            seats = dict(connection.execute(sa.select(SessionSeat.registration_id, SessionSeat.status)).all())
            counters = connection.execute(sa.text(
                "SELECT e.confirmed_count, e.waitlisted_count, s.confirmed_count, s.waitlisted_count "
                "FROM event e JOIN session s ON s.event_id = e.id")).one()
            mails = connection.execute(sa.select(OutboxMessage.registration_id, OutboxMessage.compose_args)).all()
        db.engine.dispose()
    assert {k: getattr(v, "name", v) for k, v in seats.items()} == {1: "confirmed", 2: "confirmed", 3: "wish"}
    assert tuple(counters) == (2, 1, 2, 0)
    assert [(registration_id, json.loads(about)) for registration_id, about in mails] == [
        (2, {"kind": "promoted", "confirmed": [1], "released": [], "seats_only": True})]
