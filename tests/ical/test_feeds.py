"""Programme and session feeds: two parsers agree with the database, stable UIDs, SEQUENCE, conditional GET."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import pytest

from seminar.events.models import Event, Session, SessionKind
from seminar.events.seed import seed_anniversary_seminar
from seminar.extensions import db
from seminar.ical.timezones import vtimezone
from tests.ical.conftest import SLUG, edit_session, parse_both

FEED = f"/events/{SLUG}/programme.ics"


def _db_times(app) -> dict[str, tuple]:
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        return {f"event-{event.id}-session-{s.id}@seminar.test": (s.starts_at, s.ends_at) for s in event.sessions}


def _times_from_both(body: bytes) -> tuple[dict, dict]:
    ical, vcal = parse_both(body)
    from_ical = {str(e["uid"]): (e.decoded("dtstart").astimezone(UTC), e.decoded("dtend").astimezone(UTC))
                 for e in ical.walk("VEVENT")}
    from_vobject = {e.uid.value: (e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC))
                    for e in vcal.vevent_list}
    return from_ical, from_vobject


@pytest.mark.parametrize("day", [date(2024, 6, 25), date(2025, 1, 14)], ids=["summer", "winter"])
def test_programme_feed_times_match_database_in_both_parsers(app, client, day):
    with app.app_context():
        seed_anniversary_seminar(day)
    response = client.get(FEED)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    expected = _db_times(app)
    from_ical, from_vobject = _times_from_both(response.data)
    assert from_ical == expected
    assert from_vobject == expected
    # 09:00 in Paris is 07:00 UTC in summer, 08:00 in winter: the feed must say so whatever the parser.
    first = min(start for start, _ in expected.values())
    assert first.hour == (7 if day.month == 6 else 8)


@pytest.mark.parametrize("day", [date(2024, 6, 25), date(2025, 1, 14)], ids=["summer", "winter"])
def test_programme_feed_vtimezone_alone_gives_right_times(app, client, day):
    """Rename the zone so that neither parser can fall back on its own tz database: only our VTIMEZONE
    (RRULE-based) can place the times."""
    with app.app_context():
        seed_anniversary_seminar(day)
    body = client.get(FEED).data
    assert b"RRULE:FREQ=YEARLY" in body and b"RDATE" not in body
    renamed = body.replace(b"Europe/Paris", b"X-Seminar-Local")
    from_ical, from_vobject = _times_from_both(renamed)
    expected = _db_times(app)
    assert from_ical == expected
    assert from_vobject == expected


def test_vtimezone_built_once_per_process():
    assert vtimezone("Europe/Paris") is vtimezone("Europe/Paris")
    assert vtimezone.cache_info().currsize >= 1


def test_programme_feed_has_required_properties(seeded, client):
    ical, _ = parse_both(client.get(FEED).data)
    events = ical.walk("VEVENT")
    assert len(events) == len(seeded.sessions)
    for vevent in events:
        for name in ("UID", "DTSTAMP", "SEQUENCE", "SUMMARY", "DESCRIPTION", "LOCATION", "URL", "STATUS"):
            assert name in vevent, name
    round_table = next(s for s in seeded.sessions if s.kind is SessionKind.round_table)
    vevent = next(e for e in events if str(e["summary"]) == round_table.title)
    description = str(vevent["description"])
    assert round_table.description in description
    assert "Cancéropôle Est" in description  # panellists
    assert f"/events/{SLUG}/programme#session-{round_table.id}" in description
    assert "Salons de l'Aveyron" in str(vevent["location"]) and "75012 Paris" in str(vevent["location"])
    assert str(vevent["status"]) == "TENTATIVE"  # times not confirmed yet, as the programme page says


def test_session_feed_contains_that_session_only(seeded, client):
    session = seeded.sessions[2]
    response = client.get(f"/events/{SLUG}/sessions/{session.id}.ics")
    assert response.status_code == 200
    ical, vcal = parse_both(response.data)
    assert [str(e["summary"]) for e in ical.walk("VEVENT")] == [session.title]
    assert vcal.vevent.uid.value == f"event-{seeded.id}-session-{session.id}@seminar.test"


def test_session_feed_of_another_event_is_404(seeded, app, client):
    with app.app_context():
        other = Event(slug="autre", title="Autre", starts_at=seeded.starts_at, ends_at=seeded.ends_at)
        other.sessions = [Session(kind=SessionKind.plenary, title="Ailleurs", starts_at=seeded.starts_at,
                                  ends_at=seeded.ends_at)]
        db.session.add(other)
        db.session.commit()
        foreign = other.sessions[0].id
    assert client.get(f"/events/{SLUG}/sessions/{foreign}.ics").status_code == 404
    assert client.get(f"/events/autre/sessions/{foreign}.ics").status_code == 200
    assert client.get(f"/events/{SLUG}/sessions/999999.ics").status_code == 404
    assert client.get("/events/nope/programme.ics").status_code == 404


def test_uids_stable_across_requests_and_edits_sequence_raised(seeded, app, client):
    before, _ = parse_both(client.get(FEED).data)
    again, _ = parse_both(client.get(FEED).data)
    uids = [str(e["uid"]) for e in before.walk("VEVENT")]
    assert uids == [str(e["uid"]) for e in again.walk("VEVENT")]

    moved = seeded.sessions[2]
    edit_session(app, moved.id, title="Table ronde 1 (nouveau titre)",
                 starts_at=moved.starts_at + timedelta(minutes=30), ends_at=moved.ends_at + timedelta(minutes=30))
    after, vafter = parse_both(client.get(FEED).data)
    assert sorted(uids) == sorted(str(e["uid"]) for e in after.walk("VEVENT"))
    old = {str(e["uid"]): e for e in before.walk("VEVENT")}
    for vevent in after.walk("VEVENT"):
        uid = str(vevent["uid"])
        if str(vevent["summary"]) == "Table ronde 1 (nouveau titre)":
            assert vevent["sequence"] == old[uid]["sequence"] + 1
            assert vevent.decoded("dtstart").astimezone(UTC) == moved.starts_at + timedelta(minutes=30)
        else:
            assert vevent["sequence"] == old[uid]["sequence"]
    assert {e.uid.value for e in vafter.vevent_list} == set(uids)


def test_uids_same_in_a_restarted_app(seeded, app, backend, tmp_path):
    from tests.conftest import make_app

    first = app.test_client().get(FEED).data
    restarted = make_app(backend, tmp_path, BASE_URL="http://seminar.test") if backend == "sqlite" else app
    second = restarted.test_client().get(FEED).data
    uid = lambda body: sorted(str(e["uid"]) for e in parse_both(body)[0].walk("VEVENT"))  # noqa: E731
    assert uid(first) == uid(second)


def test_programme_feed_etag_and_last_modified_give_304(seeded, app, client):
    response = client.get(FEED)
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    not_modified = client.get(FEED, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert client.get(FEED, headers={"If-Modified-Since": modified}).status_code == 304
    session_url = f"/events/{SLUG}/sessions/{seeded.sessions[0].id}.ics"
    session_etag = client.get(session_url).headers["ETag"]
    assert client.get(session_url, headers={"If-None-Match": session_etag}).status_code == 304

    edit_session(app, seeded.sessions[0].id, title="Accueil (modifié)")
    changed = client.get(FEED, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_ics_command_writes_programme(seeded, runner, tmp_path):
    target = tmp_path / "programme.ics"
    result = runner.invoke(args=["ics", SLUG, "-o", str(target)])
    assert result.exit_code == 0, result.output
    ical, vcal = parse_both(target.read_bytes())
    assert len(ical.walk("VEVENT")) == len(seeded.sessions) == len(vcal.vevent_list)


def test_ics_command_unknown_slug_fails_clearly(app, runner, tmp_path):
    result = runner.invoke(args=["ics", "nope", "-o", str(tmp_path / "x.ics")])
    assert result.exit_code != 0
    assert "nope" in result.output


def test_add_to_calendar_links_on_event_and_programme_pages(seeded, client):
    for page in (f"/events/{SLUG}/", f"/events/{SLUG}/programme"):
        html = client.get(page).get_data(as_text=True)
        assert f"webcal://localhost/events/{SLUG}/programme.ics" in html
        assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
        assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
    programme = client.get(f"/events/{SLUG}/programme").get_data(as_text=True)
    assert f"/events/{SLUG}/sessions/{seeded.sessions[0].id}.ics" in programme
