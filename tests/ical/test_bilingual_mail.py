"""E-mails and invites in the registrant's language, from the organiser: English texts for an English
registrant (French where none was written), the organiser's name as sender, replies to the event's contact."""

from __future__ import annotations

import re
from email.utils import parseaddr

import pytest

from seminar.events.models import Event, Session
from seminar.extensions import db
from seminar.registration import services
from seminar.registration.services import RegistrationDetails
from tests.ical.conftest import SLUG, calendar_part, deliver, round_table_ids


@pytest.fixture
def app_config(smtp_inbox):
    return {"MAIL_URL": smtp_inbox.url, "MAIL_FROM": "Séminaire <no-reply@seminaire.example.org>"}


def _register(app, email: str, locale: str, round_tables: list[int]) -> None:
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        details = RegistrationDetails(first_name="Ada", last_name="Lovelace", email=email)
        services.register(event.id, details, round_tables, locale=locale)


def _by_recipient(messages) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in messages:
        found.setdefault(parseaddr(message["To"])[1], []).append(message)
    return found


def test_mail_and_invites_follow_the_registrant_language_with_the_organisers_identity(app, seeded, smtp_inbox):
    [first, *_] = round_table_ids(app)
    with app.app_context():
        untranslated = db.session.get(Session, first)
        untranslated.title_en = ""  # no English title: the French one is shown
        french_title = untranslated.title
        db.session.commit()
    _register(app, "ada@example.org", "en", [first])
    _register(app, "camille@example.org", "fr", [first])
    deliver(app)
    mail = _by_recipient(smtp_inbox.take())

    english, french = mail["ada@example.org"], mail["camille@example.org"]
    for message in english + french:
        assert message["Reply-To"] == seeded.contact_email
        assert parseaddr(message["From"])[1] == "no-reply@seminaire.example.org"
    assert {parseaddr(m["From"])[0] for m in english} == {seeded.organiser_en}
    assert {parseaddr(m["From"])[0] for m in french} == {"Institut national du cancer"}

    confirmation = next(m for m in english if "confirmed" in m["Subject"])
    assert seeded.title_en in confirmation["Subject"]
    assert seeded.title not in confirmation["Subject"]
    invites = {str(calendar_part(m).walk("VEVENT")[0]["summary"]) for m in english if calendar_part(m)}
    assert seeded.title_en in invites and french_title in invites
    french_invites = {str(calendar_part(m).walk("VEVENT")[0]["summary"]) for m in french if calendar_part(m)}
    assert seeded.title in french_invites


def test_invite_text_shows_times_without_seconds_in_each_language(app, seeded, smtp_inbox):
    [first, *_] = round_table_ids(app)
    _register(app, "ada@example.org", "en", [first])
    _register(app, "camille@example.org", "fr", [first])
    deliver(app)
    mail = _by_recipient(smtp_inbox.take())
    day = seeded.local(seeded.starts_at)
    for address, date_text in (("ada@example.org", f"{day.day} Nov {day.year}"),
                               ("camille@example.org", f"{day.day} nov. {day.year}")):
        [invite] = [m for m in mail[address] if m["Subject"].strip().startswith("Invitation")]
        body = invite.get_body(("plain",)).get_content()
        assert f"{date_text}, 10:00" in body  # en-GB day before month, 24-hour clock
        assert not re.search(r"\d\d:\d\d:\d\d", body)  # never seconds

