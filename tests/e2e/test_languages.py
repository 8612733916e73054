"""The language switch turns every visible string into English and back. A page's visible text, less the
content data (event, programme, venue, people: typed by organisers, in French; categories are not content:
they have an English label), must hold no French
interface string (any French translation from the catalogues) and no French date word; back in French,
no English interface string may remain."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po
from sqlalchemy import select

from seminar.catalogues import PACKAGE
from seminar.events.models import Event, Organisation, PressContact, Room, Session, Speaker, Venue
from seminar.extensions import db
from tests.e2e.helpers import SLUG, fill_registration, round_tables
from tests.e2e.test_staff_journeys import sign_in

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
FRENCH_DATE_WORDS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "janvier", "février",
                     "mars", "avril", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]


def _interface_strings() -> tuple[set[str], set[str]]:
    """(French, English) fragments of interface strings that differ between the two languages."""
    french, english = set(), set()
    for po_path in PACKAGE.glob("**/translations/fr/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as f:
            catalogue = read_po(f)
        for message in catalogue:
            if not message.id or not message.string:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text, bucket in [(s, french) for s in strings] + [(i, english) for i in ids]:
                bucket.update(f.strip(" .:,;()·—-") for f in PLACEHOLDER.split(text))
    french, english = {f for f in french if len(f) >= 5}, {e for e in english if len(e) >= 5}
    return french - english, english - french


def _content_strings(server) -> list[str]:
    with server.app.app_context():
        rows: list[str | None] = []
        for event in db.session.scalars(select(Event)):
            rows += [event.title, event.subtitle, event.organiser, *event.description.split("\n"),
                     event.title_en, event.subtitle_en, event.organiser_en, *event.description_en.split("\n")]
        for model, fields in [(Session, ("title", "description", "title_en", "description_en")), (Room, ("name",)),
                              (Venue, ("name", "street_address", "city", "country", "access_notes",
                                       "accessibility_notes", "access_notes_en", "accessibility_notes_en")),
                              (Speaker, ("name", "title", "affiliation", "title_en")),
                              (Organisation, ("name", "name_en")), (PressContact, ("name", "role", "role_en"))]:
            for row in db.session.scalars(select(model)):
                rows += [getattr(row, field) for field in fields]
        # Tables shorten titles (`truncate`): their beginnings are content too.
        rows += [title[:20] for title in db.session.scalars(select(Session.title))]
        rows += [title[:20] for title in db.session.scalars(select(Session.title_en))]
        db.session.remove()
    return sorted({r for r in rows if r}, key=len, reverse=True)


# The product's name, kept in English in the French footer ("Seminar, gestion d'événements scientifiques").
PRODUCT_NAME = "Seminar"


def _visible_text(page, content: list[str]) -> str:
    text = page.locator("body").inner_text()
    for value in content:
        text = text.replace(value, " ")
    return re.sub(rf"(?<!\w){PRODUCT_NAME},", " ", text)


def _leftovers(text: str, fragments: set[str]) -> list[str]:
    return sorted(f for f in fragments if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", text))


def _switch(page, code: str) -> None:
    page.locator(f".lang-switch a[hreflang={code}]").click()
    page.wait_for_function(f"() => document.documentElement.lang === '{code}'")


def test_language_switch_translates_every_interface_string_and_back(page, server):
    french, english = _interface_strings()
    content = _content_strings(server)
    table_id = round_tables(server)[0][0]
    page.goto(f"/events/{SLUG}/register")
    fill_registration(page, first_name="Jeanne", last_name="Bilingue", email="jeanne.bilingue@example.org",
                      tables=[table_id])
    page.locator("form.form-grid button[type=submit]").click()
    page.wait_for_url("**/register/thanks")
    manage = server.self_service_path(server.wait_for_mail("jeanne.bilingue@example.org")[0])

    public = [f"/events/{SLUG}/", f"/events/{SLUG}/programme", f"/events/{SLUG}/speakers", f"/events/{SLUG}/venue",
              f"/events/{SLUG}/register", f"/events/{SLUG}/privacy", manage, "/login"]
    staff = [f"/admin/events/{SLUG}/", f"/admin/events/{SLUG}/registrations", f"/admin/events/{SLUG}/sessions",
             f"/admin/events/{SLUG}/registrations/import", f"/admin/events/{SLUG}/badges/", f"/checkin/{SLUG}"]
    problems = []
    for path in public + [None] + staff:
        if path is None:
            sign_in(page, server, "organiser")
            continue
        page.goto(path)
        _switch(page, "en")
        text = _visible_text(page, content)
        left = _leftovers(text, french) + _leftovers(text.lower(), set(FRENCH_DATE_WORDS))
        if left:
            problems.append(f"{path} in English still shows French: {left}")
        _switch(page, "fr")
        left = _leftovers(_visible_text(page, content), english)
        if left:
            problems.append(f"{path} back in French still shows English: {left}")
    assert not problems, "\n".join(problems)
