"""Public texts in the reader's language with the other as fallback, dates per locale, days of a long event."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from babel.dates import format_date
from flask_babel import force_locale

from seminar.events.models import Event, Organisation, Session
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.formatting import local_date, local_datetime


def _page(client, path: str, lang: str) -> str:
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_public_pages_show_english_texts_to_english_readers(client, seeded):
    english = _page(client, f"/events/{SLUG}/", "en")
    assert seeded.title_en in english and seeded.subtitle_en in english
    assert "National elected officials" in english and "Élus nationaux" not in english
    assert "Head of media relations" in english
    programme = _page(client, f"/events/{SLUG}/programme", "en")
    assert "Round table 2: patients and research" in programme
    assert "Table ronde 2 : les patients et la recherche" not in programme
    assert "Norbert Ifrah, President (Institut national du cancer)" in programme
    venue = _page(client, f"/events/{SLUG}/venue", "en")
    assert "Metro line 14" in venue

    french = _page(client, f"/events/{SLUG}/programme", "fr")
    assert "Table ronde 2 : les patients et la recherche" in french
    assert "Norbert Ifrah, président (Institut national du cancer)" in french
    assert seeded.title_en not in french


def test_an_empty_translation_falls_back_to_the_other_language(app, client, seeded):
    with app.app_context():
        session = db.session.scalar(db.select(Session).where(Session.title == "Déjeuner"))
        session.title_en = ""  # not translated: English readers see the French
        organisation = db.session.scalar(db.select(Organisation).where(Organisation.name == "Inserm"))
        organisation.name, organisation.name_en = "", "Inserm (English only)"  # only in English
        db.session.commit()
    assert "Déjeuner" in _page(client, f"/events/{SLUG}/programme", "en")
    assert "Inserm (English only)" in _page(client, f"/events/{SLUG}/", "fr")


def test_api_returns_both_languages(client, seeded):
    data = client.get(f"/api/events/{SLUG}").get_json()
    assert data["title"] == seeded.title and data["title_en"] == seeded.title_en
    assert data["description_en"] == seeded.description_en and data["subtitle_en"] == seeded.subtitle_en
    assert data["venue"]["access_notes_en"].startswith("Metro line 14")
    sessions = {s["title"]: s for s in data["sessions"]}
    table = sessions["Table ronde 2 : les patients et la recherche"]
    assert table["title_en"] == "Round table 2: patients and research"
    assert table["description_en"].startswith("How patients take part")
    opening = sessions["Ouverture du séminaire"]
    assert {(s["name"], s["title"], s["title_en"]) for s in opening["speakers"]} >= {
        ("Norbert Ifrah", "président", "President")}


def test_dates_are_en_gb_in_english_french_in_french_and_never_show_seconds(app, seeded):
    moment = seeded.starts_at.replace(minute=30)
    with app.test_request_context():
        with force_locale("en"):
            long_date = local_date(moment, seeded.timezone, "long")
            when = local_datetime(moment, seeded.timezone)
        with force_locale("fr"):
            date_fr = local_date(moment, seeded.timezone, "long")
            when_fr = local_datetime(moment, seeded.timezone)
    day = seeded.local(moment)
    assert long_date == f"{day.day} November {day.year}"  # not "November 28, 2026"
    assert when == f"{day.day} Nov {day.year}, 09:30"  # not "9:30:00 AM"
    assert date_fr == f"{day.day} novembre {day.year}"
    assert when_fr == f"{day.day} nov. {day.year}, 09:30"


def test_a_programme_over_two_days_is_grouped_by_day_with_the_date_as_heading(app, client, seeded):
    with app.app_context():
        event = db.session.get(Event, seeded.id)
        event.ends_at += timedelta(days=1)
        closing = db.session.scalar(db.select(Session).where(Session.title == "Cocktail"))
        closing.starts_at += timedelta(days=1)
        closing.ends_at += timedelta(days=1)
        table_id = db.session.scalar(db.select(Session.id).where(Session.title.startswith("Table ronde 1")))
        db.session.commit()
        first_day, second_day = event.local(event.starts_at).date(), event.local(event.ends_at).date()
    for lang, babel_locale, later in (("fr", "fr", "Cocktail"), ("en", "en_GB", "Reception")):
        page = _page(client, f"/events/{SLUG}/programme", lang)
        headings = re.findall(r'<h2 class="programme-day" id="day-([0-9-]+)">([^<]+)</h2>', page)
        assert headings == [(day.isoformat(), format_date(day, "full", locale=babel_locale))
                            for day in (first_day, second_day)]
        # the round tables come under the first day's heading, the cocktail under the second
        assert page.index(headings[0][1]) < page.index(f"id=\"session-{table_id}\"") < page.index(headings[1][1])
        assert page.index(headings[1][1]) < page.index(later)

def test_a_one_day_programme_has_no_day_headings(client, seeded):
    assert 'class="programme-day"' not in _page(client, f"/events/{SLUG}/programme", "fr")


def test_api_gives_every_public_text_its_english_twin(client, seeded):
    """CONTRACTS: texts shown to the public also come in English under the same key suffixed `_en`."""
    data = client.get(f"/api/events/{SLUG}").get_json()
    assert {"title_en", "subtitle_en", "description_en", "organiser_en"} <= data.keys()
    assert {"access_notes_en", "accessibility_notes_en"} <= data["venue"].keys()
    for session in data["sessions"]:
        assert {"title_en", "description_en"} <= session.keys()
        for speaker in session["speakers"]:
            assert "title_en" in speaker
