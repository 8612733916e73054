"""The programme editor in Chromium: an organiser adds a round table with its speakers in one form."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from seminar.events import programme
from seminar.events.models import Event, Session, Speaker
from seminar.extensions import db
from tests.e2e.helpers import SLUG, run_axe
from tests.e2e.test_staff_journeys import sign_in

TITLE = "Table ronde des soignants (e2e)"


def _event_day_and_speaker(server) -> tuple[str, int, str]:
    """The event's first day (in its time zone), and a speaker of the event with how the programme names them."""
    with server.app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        speaker = db.session.scalar(select(Speaker).where(Speaker.event_id == event.id, Speaker.title != "")
                                    .order_by(Speaker.id))
        found = event.local(event.starts_at).strftime("%Y-%m-%d"), speaker.id, speaker.credit("fr")
        db.session.remove()
    return found


def _delete_session(server, title: str) -> None:
    """The server is shared by the e2e tests: the round table added here goes, as others count the seminar's."""
    with server.app.app_context():
        session = db.session.scalar(select(Session).where(Session.title == title))
        if session is not None:
            programme.delete_session(session.event_id, session.id)
        db.session.remove()


def test_organiser_adds_a_round_table_with_two_speakers_inline(page, server):
    try:
        _add_round_table_with_two_speakers(page, server)
    finally:
        _delete_session(server, TITLE)


def _add_round_table_with_two_speakers(page, server):
    day, speaker_id, credit = _event_day_and_speaker(server)
    sign_in(page, server, "organiser")
    page.goto(f"/admin/events/{SLUG}/sessions/new")
    page.select_option("[name=kind]", "round_table")
    page.fill("[name=title]", TITLE)
    page.fill("[name=starts_at]", f"{day}T17:00")
    page.fill("[name=ends_at]", f"{day}T17:45")

    # The first row: a speaker of the event, moderator.
    page.select_option("[name=speakers-0-speaker_id]", str(speaker_id))
    page.select_option("[name=speakers-0-role]", "moderator")
    page.fill("[name=speakers-0-position]", "1")

    # A row of its own for a new person, through "Add a speaker": the next index, the focus on its first control.
    assert page.locator("[data-speaker-row]").count() == 4
    page.locator("[data-add-speaker]").click()
    assert page.locator("[data-speaker-row]").count() == 5
    expect(page.locator("[name=speakers-4-speaker_id]")).to_be_focused()
    expect(page.locator("label[for=speakers-4-name]")).to_be_visible()
    expect(page.locator("[name=speakers-4-position]")).to_have_value("5")
    page.fill("[name=speakers-4-name]", "Marc Petit")
    page.fill("[name=speakers-4-title]", "infirmier")
    page.fill("[name=speakers-4-affiliation]", "Institut Curie")
    page.select_option("[name=speakers-4-role]", "panellist")
    page.fill("[name=speakers-4-position]", "2")
    run_axe(page, "new session with speakers")

    page.locator("main form.form-grid button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/admin/events/.+/sessions/\d+$"))
    # The session's page lists them as its current speakers, each with a "remove" box.
    expect(page.locator("[data-speaker-row][data-linked]")).to_have_count(2)

    page.goto(f"/events/{SLUG}/programme")
    slot = page.locator("li.slot", has_text=TITLE)
    expect(slot).to_contain_text(credit)
    expect(slot).to_contain_text("Marc Petit, infirmier (Institut Curie)")
    text = slot.inner_text()
    assert text.index(credit) < text.index("Marc Petit, infirmier (Institut Curie)")
