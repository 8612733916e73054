"""The registration's locked transaction only records its e-mail; the invites are written afterwards by the
outbox worker, with as few statements as their rules allow."""

from __future__ import annotations

import icalendar

from seminar.events.models import Event
from seminar.extensions import db
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import compose_pending
from seminar.registration import services
from seminar.registration.models import Registration, SessionSeat
from seminar.registration.services import RegistrationDetails
from tests.ical.conftest import SLUG, register, round_table_ids
from tests.queries import count_queries


def _compose(app) -> None:
    with app.app_context():
        while compose_pending():
            pass


def _pending_invites(app, registration_id: int) -> dict[str, list[tuple[str, int]]]:
    """coalesce key → [(METHOD, SEQUENCE)] of the round-table invites still pending for a registration, once
    the outbox worker has written them."""
    _compose(app)
    with app.app_context():
        messages = db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.registration_id == registration_id,
                                           OutboxMessage.coalesce_key.is_not(None),
                                           OutboxMessage.status == OutboxStatus.pending)
            .order_by(OutboxMessage.id))
        found: dict[str, list[tuple[str, int]]] = {}
        for message in messages:
            [vevent] = icalendar.Calendar.from_ical(message.ics).walk("VEVENT")
            found.setdefault(message.coalesce_key, []).append((message.ics_method, int(vevent["sequence"])))
        return found


def test_registration_records_its_email_in_one_insert_and_no_invite_statement(seeded, app):
    tables = round_table_ids(app)[:1]
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        details = RegistrationDetails(first_name="Camille", last_name="Durand", email="camille@example.org")
        with count_queries() as statements:
            outcome = services.register(event.id, details, tables)
        sequences = {s.id: s.sequence for s in event.sessions}
        if db.engine.dialect.name == "sqlite":  # PostgreSQL: the writes go in a psycopg pipeline, unseen here
            normalised = [" ".join(s.split()).lower() for s in statements]
            assert len([s for s in normalised if s.startswith("insert into outbox_message")]) == 1
            assert not [s for s in normalised if "outbox_message" in s and not s.startswith("insert")]
            assert not [s for s in normalised if s.startswith("update session_seat") and "ical_sequence" in s]
    with app.app_context():
        [recorded] = db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.registration_id == outcome.registration_id)).all()
        assert recorded.compose_kind is not None and recorded.text_body == "" and recorded.ics is None
        # Nothing of the invites yet: their sequences are raised when the worker writes them.
        seats = db.session.scalars(db.select(SessionSeat).where(SessionSeat.registration_id == outcome.registration_id))
        assert {seat.session_id: seat.ical_sequence for seat in seats} == dict.fromkeys(tables, 0)
        assert db.session.get(Registration, outcome.registration_id).ical_sequence == 0
    pending = _pending_invites(app, outcome.registration_id)
    with app.app_context():
        seats = db.session.scalars(db.select(SessionSeat).where(SessionSeat.registration_id == outcome.registration_id))
        assert {seat.session_id: seat.ical_sequence for seat in seats} == dict.fromkeys(tables, 1)
        assert db.session.get(Registration, outcome.registration_id).ical_sequence == 1
    assert sorted(pending.values()) == sorted([("REQUEST", sequences[t] + 1)] for t in tables)


def test_several_new_seats_each_get_one_invite(seeded, app):
    tables = round_table_ids(app)
    registration_id, _ = register(app, "camille@example.org", tables)
    _compose(app)
    with app.app_context():
        sequences = {s.id: s.sequence for s in db.session.scalar(db.select(Event).where(Event.slug == SLUG)).sessions}
        seats = db.session.scalars(db.select(SessionSeat).where(SessionSeat.registration_id == registration_id))
        assert {seat.session_id: seat.ical_sequence for seat in seats} == dict.fromkeys(tables, 1)
    pending = _pending_invites(app, registration_id)
    assert sorted(pending.values()) == sorted([("REQUEST", sequences[t] + 1)] for t in tables)


def test_seat_given_up_and_taken_again_keeps_one_pending_invite(seeded, app):
    """A seat that already exists is looked up: its pending invite is replaced, never joined by a second."""
    table = round_table_ids(app)[0]
    registration_id, _ = register(app, "camille@example.org", [table])
    _compose(app)
    with app.app_context():
        services.change_sessions(registration_id, [])
        compose_pending()
        services.change_sessions(registration_id, [table])
        sessions = db.session.scalar(db.select(Event).where(Event.slug == SLUG)).sessions
        sequence = next(s.sequence for s in sessions if s.id == table)
    assert list(_pending_invites(app, registration_id).values()) == [[("REQUEST", sequence + 3)]]
