"""The fast serialisation writes what icalendar itself writes, and cached feed VEVENTs never go stale."""

from __future__ import annotations

import random

from flask_babel import force_locale
from icalendar import Calendar
from icalendar.parser.string import _foldline

from seminar.events.models import Event, Speaker
from seminar.extensions import db
from seminar.ical import calendar
from seminar.ical.folding import fold, to_ical
from seminar.ical.timezones import vtimezone, vtimezone_ical
from tests.ical.conftest import SLUG

AWKWARD = "aé€😀\\^;,:\"\t x\ufeff"


def test_fold_matches_icalendar_on_awkward_lines():
    rng = random.Random(5545)
    lines = ["", "x" * 74, "x" * 75, "x" * 73 + "\\n", "x" * 73 + "^^", "é" * 40, "😀" * 30, "\\" * 200]
    lines += ["".join(rng.choice(AWKWARD) for _ in range(rng.randrange(0, 400))) for _ in range(2000)]
    for line in lines:
        assert fold(line.encode()) == (_foldline(line) + "\r\n").encode(), line


def _event() -> Event:
    return db.session.scalar(db.select(Event).where(Event.slug == SLUG))


def test_programme_feed_bytes_match_library_serialisation(seeded, app):
    with app.test_request_context(), force_locale("fr"):
        event = _event()
        event.sessions[0].title = "Début\r\n; \\ «long» " + "é😀^" * 40
        event.sessions[0].description = "\ufeffBOM first, then " + "x\\" * 60
        site = calendar.Site.from_config(app.config)
        calendar.forget_serialised_vevents()
        cold = calendar.programme_calendar(event, site)
        warm = calendar.programme_calendar(event, site)
        cal = calendar._calendar(event, calendar._line(event.title))
        cal.add_component(vtimezone(event.timezone))
        for session in event.sessions:
            cal.add_component(calendar._session_vevent(
                event, session, site, uid=site.uid(event, session), sequence=session.sequence,
                dtstamp=calendar.last_modified(event, [session])))
        assert cold == warm == cal.to_ical(sorted=False)
        assert to_ical(cal) == cal.to_ical(sorted=False)
        assert len(Calendar.from_ical(cold).walk("VEVENT")) == len(event.sessions)
        db.session.rollback()


def test_vtimezone_serialised_once_per_process():
    assert vtimezone_ical("Europe/Paris") is vtimezone_ical("Europe/Paris")
    assert vtimezone_ical("Europe/Paris").startswith(b"BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n")


def test_cached_feed_follows_speaker_rename_locale_and_base_url(seeded, app):
    """A speaker's new name changes no session's updated_at: the cache key must still see it."""
    with app.test_request_context():
        event = _event()
        site = calendar.Site.from_config(app.config)
        with force_locale("fr"):
            calendar.programme_calendar(event, site)  # warm the cache
        speaker = db.session.scalars(db.select(Speaker).join(Speaker.session_links)).first()
        old_name = speaker.name
        speaker.name = "Nouveau Nom"
        with force_locale("fr"):
            french = calendar.programme_calendar(event, site).decode()
        assert "Nouveau Nom" in french.replace("\r\n ", "") and old_name not in french.replace("\r\n ", "")
        with force_locale("en"):
            english = calendar.programme_calendar(event, site).decode().replace("\r\n ", "")
        assert ("Moderator" in english or "Speaker" in english) and "Modérat" not in english
        other = calendar.programme_calendar(event, calendar.Site.from_config({"BASE_URL": "https://elsewhere.org"}))
        assert b"seminar.test" not in other and b"@elsewhere.org" in other
        db.session.rollback()
