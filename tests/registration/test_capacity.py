"""Capacity rules, waiting lists and promotion, through the services (as the back-office calls them)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from seminar.extensions import db
from seminar.registration import services
from seminar.registration.models import Registration, RegistrationSource, RegistrationStatus, SeatStatus, SessionSeat
from tests.registration.conftest import details, outbox, round_table_ids, set_capacity

CONFIRMED, WAITLISTED = RegistrationStatus.confirmed, RegistrationStatus.waitlisted
CANCELLED = RegistrationStatus.cancelled


def _status(app, registration_id):
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        return registration.status, {seat.session_id: seat.status.name for seat in registration.seats}


def _register(app, event_id, n, sessions=(), **kwargs):
    with app.app_context():
        return services.register(event_id, details(n), list(sessions), **kwargs)


def test_event_full_puts_next_registrant_on_waiting_list(app, seeded):
    set_capacity(app, event=2)
    outcomes = [_register(app, seeded.id, n) for n in range(3)]
    assert [o.status for o in outcomes] == [CONFIRMED, CONFIRMED, WAITLISTED]
    assert all(o.created and o.token for o in outcomes)
    assert "liste d'attente" in outbox(app)[-1].subject


def test_round_tables_fill_independently_of_the_event(app, seeded):
    first, second, _third = round_table_ids(seeded)
    set_capacity(app, sessions={first: 1})
    a = _register(app, seeded.id, 1, [first, second])
    b = _register(app, seeded.id, 2, [first, second])
    assert _status(app, a.registration_id) == (CONFIRMED, {first: "confirmed", second: "confirmed"})
    assert _status(app, b.registration_id) == (CONFIRMED, {first: "waitlisted", second: "confirmed"})


def test_cancelling_promotes_the_oldest_waitlisted_and_mails_them(app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, event=1, sessions={table: 1})
    holder = _register(app, seeded.id, 1, [table])
    oldest = _register(app, seeded.id, 2, [table])
    younger = _register(app, seeded.id, 3, [table])
    with app.app_context():
        promoted = services.cancel(holder.registration_id)
    assert promoted == [oldest.registration_id]
    assert _status(app, oldest.registration_id) == (CONFIRMED, {table: "confirmed"})
    assert _status(app, younger.registration_id) == (WAITLISTED, {table: "wish"})  # decided once confirmed
    assert _status(app, holder.registration_id) == (CANCELLED, {table: "cancelled"})
    mails = outbox(app)
    assert [m.registration_id for m in mails if "annulée" in m.subject] == [holder.registration_id]
    [promotion] = [m for m in mails if "attribuée" in m.subject]
    assert promotion.registration_id == oldest.registration_id
    assert "/registrations/" in promotion.text_body


def test_raising_a_capacity_promotes_into_the_new_seats(app, seeded):
    table = round_table_ids(seeded)[1]
    set_capacity(app, event=1, sessions={table: 1})
    _register(app, seeded.id, 1, [table])
    waiting = _register(app, seeded.id, 2, [table])
    set_capacity(app, event=5, sessions={table: 5})
    with app.app_context():
        assert services.capacity_changed(seeded.id) == [waiting.registration_id]
    assert _status(app, waiting.registration_id) == (CONFIRMED, {table: "confirmed"})


def test_promote_one_session_only(app, seeded):
    first, second, _ = round_table_ids(seeded)
    set_capacity(app, sessions={first: 1, second: 1})
    _register(app, seeded.id, 1, [first, second])
    waiting = _register(app, seeded.id, 2, [first, second])
    set_capacity(app, sessions={first: 2, second: 2})
    with app.app_context():
        assert services.promote_from_waitlist(seeded.id, first) == [waiting.registration_id]
    assert _status(app, waiting.registration_id)[1] == {first: "confirmed", second: "waitlisted"}


def test_organiser_overbooking_is_recorded(app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, event=1, sessions={table: 1})
    _register(app, seeded.id, 1, [table])
    forced = _register(app, seeded.id, 2, [table], source=RegistrationSource.organiser, overbook=True)
    assert forced.status is CONFIRMED
    with app.app_context():
        registration = db.session.get(Registration, forced.registration_id)
        assert registration.overbooked and registration.source is RegistrationSource.organiser
        assert registration.seats[0].status is SeatStatus.confirmed


def test_changing_round_tables_applies_capacity_and_frees_seats(app, seeded):
    first, second, third = round_table_ids(seeded)
    set_capacity(app, sessions={first: 1, third: 1})
    mover = _register(app, seeded.id, 1, [first])
    waiting = _register(app, seeded.id, 2, [first])
    _register(app, seeded.id, 3, [third])
    with app.app_context():
        promoted = services.change_sessions(mover.registration_id, [second, third])
    assert promoted == [waiting.registration_id]
    assert _status(app, mover.registration_id)[1] == {first: "cancelled", second: "confirmed", third: "waitlisted"}
    assert _status(app, waiting.registration_id)[1] == {first: "confirmed"}


def test_leaving_waiting_lists(app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, event=1, sessions={table: 1})
    _register(app, seeded.id, 1, [table])
    waiting = _register(app, seeded.id, 2, [table])
    with app.app_context():
        services.leave_waitlist(waiting.registration_id, table)
        assert _status(app, waiting.registration_id) == (WAITLISTED, {table: "cancelled"})
        services.leave_waitlist(waiting.registration_id)
        assert _status(app, waiting.registration_id)[0] is CANCELLED
        with pytest.raises(services.RegistrationError):
            services.leave_waitlist(waiting.registration_id)


def test_restore_applies_capacity_again(app, seeded):
    set_capacity(app, event=1)
    first = _register(app, seeded.id, 1)
    with app.app_context():
        services.cancel(first.registration_id)
    _register(app, seeded.id, 2)
    with app.app_context():
        assert services.restore(first.registration_id) is WAITLISTED


def test_registering_again_after_cancelling_takes_the_registration_up(app, seeded):
    first = _register(app, seeded.id, 1)
    with app.app_context():
        services.cancel(first.registration_id)
    again = _register(app, seeded.id, 1)
    assert again.registration_id == first.registration_id and again.status is CONFIRMED and not again.created


def test_erase_anonymises_releases_the_seat_and_promotes(app, seeded):
    table = round_table_ids(seeded)[2]
    set_capacity(app, sessions={table: 1})
    leaving = _register(app, seeded.id, 1, [table])
    waiting = _register(app, seeded.id, 2, [table])
    with app.app_context():
        assert services.erase(leaving.registration_id) == [waiting.registration_id]
        registration = db.session.get(Registration, leaving.registration_id)
        assert registration.status is CANCELLED and registration.anonymised_at
        assert "person1" not in f"{registration.first_name}{registration.email}{registration.email_key}"
        assert services.find_by_token(leaving.token) is None
    assert all(m.registration_id != leaving.registration_id for m in outbox(app, with_calendar=True))


def test_export_data_holds_what_is_stored(app, seeded):
    table = round_table_ids(seeded)[0]
    outcome = _register(app, seeded.id, 7, [table])
    with app.app_context():
        data = services.export_data(outcome.registration_id)
    assert data["email"] == "person7@example.org"
    assert data["round_tables"][0]["id"] == table and data["status"] == "confirmed"


def test_api_and_pages_count_confirmed_and_waitlisted(app, client, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, event=1, sessions={table: 1})
    _register(app, seeded.id, 1, [table])
    _register(app, seeded.id, 2, [table])
    data = client.get(f"/api/events/{seeded.slug}").json
    assert data["registration"] == {**data["registration"], "confirmed": 1, "waitlisted": 1, "seats_left": 0}
    [session] = [s for s in data["sessions"] if s["id"] == table]
    # The second registrant waits for the event: their round table is a wish, counted in neither.
    assert (session["confirmed"], session["waitlisted"], session["seats_left"]) == (1, 0, 0)
    assert "Complet" in client.get(f"/events/{seeded.slug}/register").text


def test_services_refuse_bad_details(app, seeded):
    with app.app_context(), pytest.raises(services.InvalidDetails) as refused:
        services.register(seeded.id, details(1, email="nope", first_name="\x07"), [])
    assert set(refused.value.errors) == {"email", "first_name"}
    with app.app_context():
        assert db.session.scalar(select(SessionSeat.id)) is None


def test_restore_takes_back_the_round_tables_held_when_cancelled_not_those_given_up_before(app, seeded):
    first, second, _third = round_table_ids(seeded)
    outcome = _register(app, seeded.id, 1, [first, second])
    with app.app_context():
        services.change_sessions(outcome.registration_id, [second])
        services.cancel(outcome.registration_id)
        assert services.restore(outcome.registration_id) is CONFIRMED
    assert _status(app, outcome.registration_id) == (CONFIRMED, {first: "cancelled", second: "confirmed"})
