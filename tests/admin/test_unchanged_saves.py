"""Saving a back-office form without changing anything tells nobody: no e-mail, no calendar update, no new SEQUENCE.

Each form is read from its page and sent back exactly as a browser sends it (textarea line breaks as CRLF, the
selected options, the checked boxes), with people registered who would be told of a real change.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from seminar.events.models import Event, Room, Session, Speaker
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from tests.admin.conftest import SLUG, register, round_tables
from tests.forms import browser_form

ADMIN = f"/admin/events/{SLUG}"


def _state(app) -> tuple:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(OutboxMessage)),
                tuple(db.session.execute(select(Session.id, Session.sequence).order_by(Session.id)).all()))


def _pages(app) -> list[str]:
    with app.app_context():
        rooms = db.session.scalars(select(Room.id)).all()
        sessions = db.session.scalars(select(Session.id)).all()
        speakers = db.session.scalars(select(Speaker.id)).all()
    return ([f"{ADMIN}/edit", f"{ADMIN}/venue"] + [f"{ADMIN}/sessions/{i}" for i in sessions]
            + [f"{ADMIN}/speakers/{i}" for i in speakers] + [f"{ADMIN}/venue#room-{i}" for i in rooms])


@pytest.fixture
def registered(app, seeded):
    """People who would be told of a change: on the event and in every round table."""
    tables = round_tables(app)
    register(app, seeded.id, 2, tables[:1])
    register(app, seeded.id, 2, tables[1:2], prefix="q")
    with app.app_context():  # the description holds line breaks, which a browser sends back as CRLF
        event = db.session.scalar(select(Event))
        event.description = "Premier paragraphe.\n\nSecond paragraphe,\nsur deux lignes."
        db.session.commit()


def test_saving_every_form_unchanged_queues_no_email_and_no_calendar_update(app, registered, organiser):
    before = _state(app)
    pages = _pages(app)
    assert len(pages) > 6
    for page in pages:
        path, _, room = page.partition("#room-")
        html = organiser.get(path).get_data(as_text=True)
        if room:
            fields = browser_form(html, f"{ADMIN}/rooms/{room}")
            url = f"{ADMIN}/rooms/{room}"
        else:
            fields = browser_form(html)
            url = path
        if "/edit" in path:
            assert any("\r\n" in value for values in fields.values() for value in values)  # CRLF really sent
        saved = organiser.post(url, data=fields)
        assert saved.status_code in (302, 303), (page, saved.status_code, saved.get_data(as_text=True)[:2000])
        assert _state(app) == before, f"saving {page} unchanged told someone"



def test_a_change_registrants_were_sent_asks_first_and_can_be_saved_without_notifying(app, registered, organiser):
    """A new time is asked about first (nothing saved); "save without notifying" saves it and tells nobody; the
    next change, with "notify", tells the round table's two registrants."""
    before = _state(app)
    session_id = round_tables(app)[0]
    url = f"{ADMIN}/sessions/{session_id}"
    fields = browser_form(organiser.get(url).get_data(as_text=True))
    fields["starts_at"] = [fields["starts_at"][0][:-2] + "15"]  # a quarter of an hour later
    asked = organiser.post(url, data=fields)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Ce changement concerne 2 personnes inscrites" in page
    assert "Enregistrer et prévenir 2 personnes inscrites" in page and "Enregistrer sans prévenir" in page
    assert _state(app) == before  # nothing saved while the organiser chooses
    with app.app_context():
        assert db.session.get(Session, session_id).starts_at.minute != 15

    fields = browser_form(page)  # the page shown again, as typed
    assert organiser.post(url, data={**fields, "notify": "0"}).status_code in (302, 303)
    outbox_count, sequences = _state(app)
    assert outbox_count == before[0]  # no e-mail, no calendar update
    with app.app_context():
        assert db.session.get(Session, session_id).starts_at.minute == 15  # saved all the same

    fields = browser_form(organiser.get(url).get_data(as_text=True))
    fields["title"] = ["Un autre titre"]
    assert organiser.post(url, data={**fields, "notify": "1"}).status_code in (302, 303)
    assert _state(app)[0] > before[0]  # the two attendees are sent the update


def test_a_change_nobody_was_told_of_is_saved_without_asking(app, seeded, organiser):
    session_id = round_tables(app)[0]
    url = f"{ADMIN}/sessions/{session_id}"
    fields = browser_form(organiser.get(url).get_data(as_text=True))
    fields["title"] = ["Un autre titre"]
    assert organiser.post(url, data=fields).status_code in (302, 303)
