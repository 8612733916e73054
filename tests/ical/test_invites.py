"""E-mailed iTIP invites, captured from a real local SMTP server: REQUEST → update → CANCEL, coalescing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seminar.events.models import Event, Session
from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.registration import services
from tests.ical.conftest import (
    SLUG,
    calendar_part,
    delete_session,
    deliver,
    edit_session,
    register,
    round_table_ids,
)


@pytest.fixture
def app_config(smtp_inbox):
    return {"MAIL_URL": smtp_inbox.url}


def _invites(messages) -> list[tuple[str, object, object]]:
    """(method, VEVENT, message) for every calendar part received, in order."""
    found = []
    for message in messages:
        cal = calendar_part(message)
        if cal is None:
            continue
        method = str(cal["method"])
        assert f"\nContent-Type: text/calendar; method={method}; charset=UTF-8\r\n".encode() in message.raw
        [vevent] = cal.walk("VEVENT")  # one UID per iTIP message
        found.append((method, vevent, message))
    return found


def _for_session(invites, session_id):
    return [(m, v) for m, v, _ in invites if f"-session-{session_id}-" in str(v["uid"])]


def test_request_update_cancel_for_one_attendee(seeded, app, smtp_inbox):
    table = round_table_ids(app)[0]
    registration_id, _token = register(app, "camille@example.org", [table])
    deliver(app)
    first = _invites(smtp_inbox.take())
    assert {m["To"] for _, _, m in first} == {"camille@example.org"}
    # The confirmation e-mail carries the event invite; the round table comes in its own invite.
    event_invites = [(m, v, msg) for m, v, msg in first if "-session-" not in str(v["uid"])]
    assert len(event_invites) == 1 and event_invites[0][0] == "REQUEST"
    assert event_invites[0][2]["Subject"] == f"Votre inscription est confirmée : {seeded.title}"
    [(method, request)] = _for_session(first, table)
    assert method == "REQUEST"
    assert str(request["organizer"]) == "mailto:seminaire-canceropoles@example.org"
    assert str(request["attendee"]) == "mailto:camille@example.org"
    assert request["attendee"].params["CN"] == "Camille Durand"
    uid, sequence = str(request["uid"]), int(request["sequence"])

    session = next(s for s in seeded.sessions if s.id == table)
    edit_session(app, table, starts_at=session.starts_at + timedelta(hours=1),
                 ends_at=session.ends_at + timedelta(hours=1))
    deliver(app)
    [(method, update)] = _for_session(_invites(smtp_inbox.take()), table)
    assert method == "REQUEST" and str(update["uid"]) == uid
    assert int(update["sequence"]) > sequence
    assert update.decoded("dtstart") == session.starts_at + timedelta(hours=1)

    with app.app_context():
        services.change_sessions(registration_id, [])
    deliver(app)
    [(method, cancel)] = _for_session(_invites(smtp_inbox.take()), table)
    assert method == "CANCEL" and str(cancel["uid"]) == uid
    assert str(cancel["status"]) == "CANCELLED"
    assert int(cancel["sequence"]) > int(update["sequence"])


def test_quick_edits_send_one_update(seeded, app, smtp_inbox):
    table = round_table_ids(app)[1]
    register(app, "a@example.org", [table])
    register(app, "b@example.org", [table])
    deliver(app)
    smtp_inbox.take()
    for minutes in (5, 10, 15):
        session = next(s for s in seeded.sessions if s.id == table)
        edit_session(app, table, starts_at=session.starts_at + timedelta(minutes=minutes),
                     ends_at=session.ends_at + timedelta(minutes=minutes))
    with app.app_context():
        pending = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.pending))
        assert sorted(m.to_addr for m in pending) == ["a@example.org", "b@example.org"]
        sequence_now = db.session.get(Session, table).sequence
    deliver(app)
    updates = _invites(smtp_inbox.take())
    assert sorted(m["To"] for _, _, m in updates) == ["a@example.org", "b@example.org"]
    for _method, vevent, _message in updates:
        assert int(vevent["sequence"]) == sequence_now + 1  # the last edit (seat counter 1 from the first invite)
        assert vevent.decoded("dtstart") == session.starts_at + timedelta(minutes=15)


def test_updates_wait_for_edits_to_settle(seeded, app, smtp_inbox):
    from seminar.mail.outbox import deliver_pending

    table = round_table_ids(app)[1]
    register(app, "a@example.org", [table])
    deliver(app)
    smtp_inbox.take()
    edit_session(app, table, title="Nouveau titre")
    with app.app_context():
        assert deliver_pending()["claimed"] == 0  # held back: the next edit would replace it


def test_session_deleted_sends_cancel(seeded, app, smtp_inbox):
    table = round_table_ids(app)[2]
    register(app, "a@example.org", [table])
    deliver(app)
    [(_, request)] = _for_session(_invites(smtp_inbox.take()), table)
    delete_session(app, table)
    deliver(app)
    [(method, cancel)] = _for_session(_invites(smtp_inbox.take()), table)
    assert method == "CANCEL" and str(cancel["status"]) == "CANCELLED"
    assert str(cancel["uid"]) == str(request["uid"]) and cancel["sequence"] > request["sequence"]


def test_registration_cancelled_cancels_event_and_round_tables(seeded, app, smtp_inbox):
    tables = round_table_ids(app)[:2]
    registration_id, _ = register(app, "a@example.org", tables)
    deliver(app)
    sent = {str(v["uid"]): int(v["sequence"]) for _, v, _ in _invites(smtp_inbox.take())}
    assert len(sent) == 3
    with app.app_context():
        services.cancel(registration_id)
    deliver(app)
    cancels = _invites(smtp_inbox.take())
    assert {str(v["uid"]) for _, v, _ in cancels} == set(sent)
    for method, vevent, _ in cancels:
        assert method == "CANCEL" and str(vevent["status"]) == "CANCELLED"
        assert int(vevent["sequence"]) > sent[str(vevent["uid"])]


def test_promotion_sends_request_then(seeded, app, smtp_inbox):
    table = round_table_ids(app)[0]
    with app.app_context():
        db.session.get(Session, table).capacity = 1
        db.session.commit()
    first_id, _ = register(app, "first@example.org", [table])
    register(app, "second@example.org", [table])
    deliver(app)
    before = _invites(smtp_inbox.take())
    assert [m["To"] for _, _, m in _for_session_messages(before, table)] == ["first@example.org"]
    with app.app_context():
        services.cancel(first_id)
    deliver(app)
    after = _invites(smtp_inbox.take())
    promoted = [m for m, _, msg in _for_session_messages(after, table) if msg["To"] == "second@example.org"]
    assert promoted == ["REQUEST"]
    # Only the seat was promoted: the event's invite came with the confirmation and is not sent again.
    assert not [v for _, v, msg in after if msg["To"] == "second@example.org" and "-session-" not in str(v["uid"])]


def test_promotion_off_the_event_waiting_list_sends_the_event_invite(seeded, app, smtp_inbox):
    with app.app_context():
        db.session.scalar(db.select(Event).where(Event.slug == SLUG)).capacity = 1
        db.session.commit()
    first_id, _ = register(app, "first@example.org", [])
    register(app, "second@example.org", [])
    deliver(app)
    before = _invites(smtp_inbox.take())
    assert [msg["To"] for _, _, msg in before] == ["first@example.org"]
    with app.app_context():
        services.cancel(first_id)
    deliver(app)
    after = _invites(smtp_inbox.take())
    to_second = [(m, msg["Subject"]) for m, v, msg in after if msg["To"] == "second@example.org"]
    assert to_second == [("REQUEST", f"Une place vous est attribuée : {seeded.title}")]


def _for_session_messages(invites, session_id):
    return [(m, v, msg) for m, v, msg in invites if f"-session-{session_id}-" in str(v["uid"])]


def test_waitlisted_registration_gets_no_invite(seeded, app, smtp_inbox):
    with app.app_context():
        db.session.scalar(db.select(Event).where(Event.slug == SLUG)).capacity = 0
        db.session.commit()
    register(app, "late@example.org", round_table_ids(app)[:1])
    deliver(app)
    messages = smtp_inbox.take()
    assert len(messages) == 1  # the waiting-list e-mail, without a calendar part
    assert all(part.get_content_type() != "text/calendar" for part in messages[0].walk())


def _event_details(app, **changes):
    from dataclasses import fields

    from seminar.events import programme

    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        values = {f.name: getattr(event, f.name) for f in fields(programme.EventDetails)}
        return event.id, programme.EventDetails(**{**values, **changes})


def _update_event(app, **changes) -> None:
    from seminar.events import programme

    event_id, details = _event_details(app, **changes)
    with app.app_context():
        programme.update_event(event_id, details)


def _event_invites(invites, to_addr):
    return [(m, v) for m, v, msg in invites if msg["To"] == to_addr and "-session-" not in str(v["uid"])]


def test_moving_the_event_updates_each_registrants_event_invite_once(seeded, app, smtp_inbox):
    register(app, "camille@example.org", [])
    deliver(app)
    [(_, sent)] = _event_invites(_invites(smtp_inbox.take()), "camille@example.org")
    with app.app_context():
        db.session.scalar(db.select(Event).where(Event.slug == SLUG)).capacity = 1
        db.session.commit()
    register(app, "waiting@example.org", [])  # waitlisted: was never sent the invite
    for hours in (1, 2):
        _update_event(app, starts_at=seeded.starts_at + timedelta(hours=hours),
                      ends_at=seeded.ends_at + timedelta(hours=hours))
    _update_event(app, registration_closes_at=seeded.starts_at)  # not on the invite: nothing more
    deliver(app)
    received = smtp_inbox.take()
    assert [m["To"] for m in received if calendar_part(m) is not None] == ["camille@example.org"]
    [(method, update)] = _event_invites(_invites(received), "camille@example.org")
    assert method == "REQUEST" and str(update["uid"]) == str(sent["uid"])
    assert int(update["sequence"]) == int(sent["sequence"]) + 2  # one per edit, the last one sent
    assert update.decoded("dtstart") == seeded.starts_at + timedelta(hours=2)
    [message] = [m for m in received if m["To"] == "camille@example.org"]
    assert str(message["Subject"]) == f"Modifié : {seeded.title}"


def test_a_new_venue_address_updates_the_event_and_round_table_invites(seeded, app, smtp_inbox):
    from dataclasses import fields

    from seminar.events import programme

    table = round_table_ids(app)[0]
    register(app, "camille@example.org", [table])
    deliver(app)
    smtp_inbox.take()
    with app.app_context():
        venue = db.session.scalar(db.select(Event).where(Event.slug == SLUG)).venue
        values = {f.name: getattr(venue, f.name) for f in fields(programme.VenueDetails)}
        programme.save_venue(seeded.id, programme.VenueDetails(**{**values, "street_address": "1 rue Neuve"}))
    deliver(app)
    invites = _invites(smtp_inbox.take())
    [(method, event_update)] = _event_invites(invites, "camille@example.org")
    [(session_method, session_update)] = _for_session(invites, table)
    assert method == session_method == "REQUEST"
    assert "1 rue Neuve" in str(event_update["location"]) and "1 rue Neuve" in str(session_update["location"])


def test_deleting_an_event_to_come_cancels_its_invites(seeded, app, smtp_inbox):
    from seminar.events import programme

    table = round_table_ids(app)[0]
    register(app, "camille@example.org", [table])
    deliver(app)
    sent = _invites(smtp_inbox.take())
    [(_, event_request)] = _event_invites(sent, "camille@example.org")
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        event.starts_at, event.ends_at = utcnow() + timedelta(days=30), utcnow() + timedelta(days=30, hours=8)
        db.session.commit()
        programme.delete_event(event.id)
    deliver(app)
    received = smtp_inbox.take()
    invites = _invites(received)
    [(method, cancel)] = _event_invites(invites, "camille@example.org")
    assert method == "CANCEL" and str(cancel["uid"]) == str(event_request["uid"])
    assert str(cancel["status"]) == "CANCELLED" and int(cancel["sequence"]) > int(event_request["sequence"])
    assert [m for m, _ in _for_session(invites, table)] == ["CANCEL"]
    assert f"Annulé : {seeded.title}" in {str(m["Subject"]) for m in received}


def test_deleting_a_past_event_sends_nothing(seeded, app, smtp_inbox):
    from seminar.events import programme

    register(app, "camille@example.org", round_table_ids(app)[:1])
    deliver(app)
    smtp_inbox.take()
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        event.starts_at, event.ends_at = utcnow() - timedelta(days=30, hours=8), utcnow() - timedelta(days=30)
        db.session.commit()
        programme.delete_event(event.id)
    deliver(app)
    assert smtp_inbox.take() == []
