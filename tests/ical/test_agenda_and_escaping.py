"""The personal agenda feed, and text that cannot inject properties or components."""

from __future__ import annotations

from datetime import UTC

import pytest

from seminar.events.models import Event, Room, Speaker
from seminar.extensions import db, utcnow
from seminar.ical.calendar import REQUEST, Site, event_invite, programme_calendar, session_invite
from seminar.registration.models import Registration, RegistrationStatus
from tests.ical.conftest import SLUG, parse_both, register, round_table_ids

EVIL = ("Début\r\nBEGIN:VEVENT\r\nUID:evil\r\nEND:VEVENT\nX-EVIL:1\rATTENDEE:mailto:x@evil"
        "\u2028BEGIN:VALARM\x0bX;Y,Z\\ é")


def test_agenda_has_event_and_confirmed_round_tables_only(seeded, app, client):
    tables = round_table_ids(app)
    with app.app_context():
        from seminar.events.models import Session

        db.session.get(Session, tables[1]).capacity = 1
        db.session.commit()
    register(app, "other@example.org", [tables[1]], first_name="Zoé", last_name="Autre")
    registration_id, token = register(app, "me@example.org", tables[:2])
    response = client.get(f"/registrations/{token}/agenda.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    ical, vcal = parse_both(response.data)
    uids = {str(e["uid"]) for e in ical.walk("VEVENT")}
    assert uids == {f"event-{seeded.id}-registration-{registration_id}@seminar.test",
                    f"event-{seeded.id}-session-{tables[0]}-registration-{registration_id}@seminar.test"}
    assert {e.uid.value for e in vcal.vevent_list} == uids
    event_vevent = next(e for e in ical.walk("VEVENT") if "-session-" not in str(e["uid"]))
    assert event_vevent.decoded("dtstart").astimezone(UTC) == seeded.starts_at
    assert b"Autre" not in response.data and b"other@example.org" not in response.data
    assert b"me@example.org" not in response.data  # a feed names nobody
    etag = response.headers["ETag"]
    assert client.get(f"/registrations/{token}/agenda.ics", headers={"If-None-Match": etag}).status_code == 304


def test_agenda_unknown_token_is_404(seeded, client):
    assert client.get("/registrations/" + "A" * 43 + "/agenda.ics").status_code == 404
    assert client.get("/registrations/short/agenda.ics").status_code == 404


def test_self_service_page_links_the_agenda(seeded, app, client):
    _, token = register(app, "me@example.org", [])
    html = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert f"webcal://localhost/registrations/{token}/agenda.ics" in html


def _vevents_and_props(body: bytes) -> tuple[int, int, set[str]]:
    ical, vcal = parse_both(body)
    names = {name for component in ical.walk() for name in component}
    return len(ical.walk("VEVENT")), len(vcal.vevent_list), names


@pytest.fixture
def poisoned(seeded, app):
    """Every text field an organiser or registrant fills in, with line breaks and iCalendar syntax."""
    registration_id, _ = register(app, "me@example.org", round_table_ids(app)[:1])
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        for name in ("title", "subtitle", "description", "organiser"):
            setattr(event, name, EVIL)
        for name in ("name", "street_address", "city"):
            setattr(event.venue, name, EVIL)
        event.venue.postal_code = "75\r\nX-EVIL:1"  # VARCHAR(20)
        for room in db.session.scalars(db.select(Room)):
            room.name = EVIL + str(room.id)
        for session in event.sessions:
            session.title, session.description = EVIL, EVIL * 20  # long: folded
        for speaker in db.session.scalars(db.select(Speaker)):
            speaker.name = speaker.title = speaker.affiliation = EVIL
        registration = db.session.get(Registration, registration_id)
        registration.first_name = registration.last_name = EVIL
        db.session.commit()
    return registration_id


def test_crlf_in_every_text_field_cannot_inject(poisoned, app):
    allowed = {"UID", "DTSTAMP", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION", "URL",
               "STATUS", "ORGANIZER", "ATTENDEE", "VERSION", "PRODID", "CALSCALE", "METHOD", "NAME", "X-WR-CALNAME",
               "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "X-WR-TIMEZONE", "TZID", "TZNAME", "TZOFFSETFROM",
               "TZOFFSETTO", "RRULE"}
    with app.test_request_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        registration = db.session.get(Registration, poisoned)
        site = Site.from_config(app.config)
        seat = registration.seats[0]
        bodies = {
            "programme": (programme_calendar(event, site), len(event.sessions)),
            "event invite": (event_invite(registration, REQUEST, site, utcnow()), 1),
            "session invite": (session_invite(seat, REQUEST, site, utcnow()), 1),
        }
        for label, (body, expected) in bodies.items():
            ical_count, vobject_count, names = _vevents_and_props(body)
            assert (ical_count, vobject_count) == (expected, expected), label
            assert names <= allowed, (label, names - allowed)
            lines = body.split(b"\r\n")
            for line in lines:
                assert b"\n" not in line and b"\r" not in line and b"\x0b" not in line, label
                assert len(line) <= 75, label  # folded
                assert not line.startswith((b"X-EVIL", b"UID:evil", b"ATTENDEE:mailto:x", b"BEGIN:VALARM")), label
            assert lines.count(b"BEGIN:VEVENT") == expected, label
        ical, _ = parse_both(bodies["session invite"][0])
        [vevent] = ical.walk("VEVENT")
        summary = str(vevent["summary"])
        assert "BEGIN:VEVENT" in summary and "\n" not in summary and "X;Y,Z\\ é" in summary  # kept, as text
        assert str(vevent["uid"]).endswith("@seminar.test") and "evil" not in str(vevent["uid"])
        assert str(vevent["attendee"]) == "mailto:me@example.org"


def test_crlf_feeds_over_http_parse_cleanly(poisoned, app, client):
    body = client.get(f"/events/{SLUG}/programme.ics").data
    with app.app_context():
        count = len(db.session.scalar(db.select(Event).where(Event.slug == SLUG)).sessions)
    ical_count, vobject_count, _ = _vevents_and_props(body)
    assert ical_count == vobject_count == count


def test_waitlisted_registration_agenda_is_tentative(seeded, app, client):
    with app.app_context():
        db.session.scalar(db.select(Event).where(Event.slug == SLUG)).capacity = 0
        db.session.commit()
    registration_id, token = register(app, "late@example.org", [])
    with app.app_context():
        assert db.session.get(Registration, registration_id).status is RegistrationStatus.waitlisted
    ical, _ = parse_both(client.get(f"/registrations/{token}/agenda.ics").data)
    assert [str(e["status"]) for e in ical.walk("VEVENT")] == ["TENTATIVE"]
