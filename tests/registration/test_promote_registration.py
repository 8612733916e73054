"""An organiser promotes ONE chosen registrant off a waiting list, beyond capacity if need be."""

from __future__ import annotations

import pytest

from seminar.extensions import db
from seminar.registration import services
from seminar.registration.models import Registration, RegistrationStatus
from tests.registration.conftest import details, outbox, round_table_ids, set_capacity

CONFIRMED, WAITLISTED, CANCELLED = (RegistrationStatus.confirmed, RegistrationStatus.waitlisted,
                                    RegistrationStatus.cancelled)


def _register(app, event_id, n, sessions=()):
    with app.app_context():
        return services.register(event_id, details(n), list(sessions)).registration_id


def _state(app, registration_id):
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        return (registration.status, {seat.session_id: seat.status.name for seat in registration.seats},
                registration.overbooked, registration.promoted_at is not None)


def _promotion_mails(app, registration_id, *, with_calendar=False):
    return [m for m in outbox(app, with_calendar=with_calendar)
            if m.registration_id == registration_id and ("attribuée" in m.subject or m.coalesce_key)]


def test_promote_registration_confirms_the_chosen_one_beyond_event_capacity(app, seeded):
    set_capacity(app, event=1)
    _register(app, seeded.id, 1)
    oldest = _register(app, seeded.id, 2)
    chosen = _register(app, seeded.id, 3)
    with app.app_context():
        services.promote_registration(chosen)
    assert _state(app, chosen) == (CONFIRMED, {}, True, True)
    assert _state(app, oldest) == (WAITLISTED, {}, False, False)
    [mail] = _promotion_mails(app, chosen)
    assert mail.ics_method == "REQUEST"
    assert "METHOD:REQUEST" in mail.ics and "BEGIN:VEVENT" in mail.ics
    assert "/registrations/" in mail.text_body
    assert _promotion_mails(app, oldest) == []


def test_promote_registration_seat_confirms_the_chosen_seat_beyond_round_table_capacity(app, seeded):
    table, other, _ = round_table_ids(seeded)
    set_capacity(app, sessions={table: 1, other: 1})
    _register(app, seeded.id, 1, [table, other])
    oldest = _register(app, seeded.id, 2, [table])
    chosen = _register(app, seeded.id, 3, [table, other])
    with app.app_context():
        services.promote_registration(chosen, session_id=table)
    assert _state(app, chosen) == (CONFIRMED, {table: "confirmed", other: "waitlisted"}, True, True)
    assert _state(app, oldest) == (CONFIRMED, {table: "waitlisted"}, False, False)
    [mail] = _promotion_mails(app, chosen)
    assert mail.ics_method is None  # a seat only: the event's invite came with the confirmation
    invites = [m for m in _promotion_mails(app, chosen, with_calendar=True) if m.coalesce_key]
    assert [m.ics_method for m in invites] == ["REQUEST"]  # the round table's own invite


def test_promote_registration_into_a_free_seat_is_not_overbooked(app, seeded):
    set_capacity(app, event=1)
    _register(app, seeded.id, 1)
    waiting = _register(app, seeded.id, 2)
    set_capacity(app, event=5)  # raised without moving the waiting list
    with app.app_context():
        services.promote_registration(waiting)
    assert _state(app, waiting)[:3] == (CONFIRMED, {}, False)


def test_promote_registration_refuses_one_not_waitlisted(app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, event=1, sessions={table: 1})
    confirmed = _register(app, seeded.id, 1, [table])
    waiting = _register(app, seeded.id, 2)
    cancelled = _register(app, seeded.id, 3, [table])
    with app.app_context():
        services.cancel(cancelled)
    before = len(outbox(app, with_calendar=True))
    with app.app_context():
        for registration_id, session_id in ((confirmed, None), (confirmed, table), (waiting, table),
                                            (cancelled, None), (cancelled, table)):
            with pytest.raises(services.RegistrationError) as refused:
                services.promote_registration(registration_id, session_id=session_id)
            assert "liste d'attente" in str(refused.value.message), (registration_id, session_id)
        with pytest.raises(services.RegistrationNotFound):
            services.promote_registration(999999)
    assert _state(app, confirmed)[:3] == (CONFIRMED, {table: "confirmed"}, False)
    assert _state(app, waiting)[0] is WAITLISTED
    assert _state(app, cancelled)[:2] == (CANCELLED, {table: "cancelled"})
    assert len(outbox(app, with_calendar=True)) == before
