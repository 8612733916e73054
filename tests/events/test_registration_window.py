"""Registration windows (issue 14, point 5): registration opens at `registration_opens_at` (if any) and closes at
`registration_closes_at`, always stored (the event's start by default), never after the event ends."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.events import programme, transfer
from seminar.events.models import Event
from seminar.events.seed import SLUG, seed_anniversary_seminar
from seminar.extensions import db, utcnow
from seminar.registration.models import Registration, RegistrationSource
from tests.accounts.factories import signed_in_client
from tests.registration.conftest import REGISTER_URL, form_data

PARIS = ZoneInfo("Europe/Paris")
OPENS_AT = datetime(2099, 10, 12, 9, 0, tzinfo=PARIS)


def _set(app, **values) -> None:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        for name, value in values.items():
            setattr(event, name, value)
        db.session.commit()


@pytest.fixture
def opens_later(app, seeded) -> Event:
    """The seminar on 28 November 2099, registration opening on 12 October 2099 at 09:00 (Paris)."""
    with app.app_context():
        seed_anniversary_seminar(date(2099, 11, 28))
    _set(app, registration_opens_at=OPENS_AT)
    return seeded


@pytest.fixture
def closed(app, seeded) -> Event:
    """The seminar still ahead, registration closed a minute ago."""
    _set(app, registration_closes_at=utcnow() - timedelta(minutes=1))
    return seeded


def _registrations(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Registration.email)))


def _notice(page: str) -> str:
    start = page.index('id="registration-window">') + len('id="registration-window">')
    return page[start:page.index("</p>", start)].strip()


# What the public is told outside the window: (fixture, in French, in English).
OUTSIDE = [
    ("opens_later", "Les inscriptions ouvrent le 12 octobre 2099 à 09:00.",
     "Registration opens on 12 October 2099 at 09:00."),
    ("closed", "Les inscriptions sont closes.", "Registration is closed."),
]


# The public form ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("window", "french", "english"), OUTSIDE)
def test_register_post_outside_the_window_is_refused_and_saves_nothing(client, app, request, window, french, english):
    event = request.getfixturevalue(window)
    response = client.post(REGISTER_URL, data=form_data(event))
    assert response.status_code == 200
    assert _notice(response.text) == french
    assert 'name="first_name"' not in response.text
    assert _registrations(app) == []


@pytest.mark.parametrize(("window", "french", "english"), OUTSIDE)
def test_register_page_outside_the_window_says_so_in_both_languages(client, request, window, french, english):
    request.getfixturevalue(window)
    for lang, notice in (("fr", french), ("en", english)):
        page = client.get(f"{REGISTER_URL}?lang={lang}").text
        assert _notice(page) == notice
        assert "<form" not in page.split("<main", 1)[-1]


def test_register_page_opening_time_is_in_the_events_timezone(client, app, opens_later):
    _set(app, registration_opens_at=datetime(2099, 10, 12, 7, 30, tzinfo=ZoneInfo("UTC")))  # 09:30 in Paris
    assert _notice(client.get(f"{REGISTER_URL}?lang=en").text) == "Registration opens on 12 October 2099 at 09:30."


def test_register_page_while_open_shows_the_form(client, seeded):
    page = client.get(REGISTER_URL).text
    assert 'id="registration-window"' not in page
    assert 'name="first_name"' in page


# Event and programme pages ------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["", "programme"])
@pytest.mark.parametrize(("window", "french", "english"), OUTSIDE)
def test_event_pages_outside_the_window_say_so_without_places_nor_register_button(client, request, page, window,
                                                                                 french, english):
    request.getfixturevalue(window)
    for lang, notice, places in (("fr", french, "places restantes"), ("en", english, "places left")):
        text = client.get(f"/events/{SLUG}/{page}?lang={lang}").text
        assert _notice(text) == notice
        assert places not in text
        assert f'href="/events/{SLUG}/register"' not in text


@pytest.mark.parametrize("page", ["", "programme"])
def test_event_pages_while_open_show_places_and_the_register_button(client, seeded, page):
    french = client.get(f"/events/{SLUG}/{page}").text
    assert 'id="registration-window"' not in french
    assert "places restantes" in french
    assert f'href="/events/{SLUG}/register"' in french


# The JSON API -----------------------------------------------------------------------------------------

def test_api_registration_gives_the_window_with_utc_offsets(client, opens_later):
    registration = client.get(f"/api/events/{SLUG}").get_json()["registration"]
    assert registration["open"] is False
    assert registration["opens_at"] == "2099-10-12T09:00:00+02:00"
    assert registration["closes_at"] == "2099-11-28T09:00:00+01:00"  # the event's start
    assert {"capacity", "seats_left", "confirmed", "waitlisted"} <= registration.keys()


def test_api_registration_without_opening_time_is_null_and_open(client, seeded):
    registration = client.get(f"/api/events/{SLUG}").get_json()["registration"]
    assert registration["open"] is True
    assert registration["opens_at"] is None
    assert datetime.fromisoformat(registration["closes_at"]) == seeded.starts_at
    assert datetime.fromisoformat(registration["closes_at"]).utcoffset() is not None


def test_api_registration_after_closing_is_not_open(client, closed):
    assert client.get(f"/api/events/{SLUG}").get_json()["registration"]["open"] is False


# Organisers ---------------------------------------------------------------------------------------------

def test_organiser_adds_a_registrant_in_the_back_office_after_closing(app, closed):
    organiser = signed_in_client(app, Role.organiser)
    data = {"first_name": "Ana", "last_name": "Lima", "email": "ana@example.org", "category": "", "locale": "fr"}
    response = organiser.post(f"/admin/events/{SLUG}/registrations/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.email == "ana@example.org"))
        assert registration.source is RegistrationSource.organiser


# Storing the window -------------------------------------------------------------------------------------

def _details(**changes) -> programme.EventDetails:
    values = {"slug": "journee", "title": "Journée", "starts_at": datetime(2030, 3, 1, 9, tzinfo=PARIS),
              "ends_at": datetime(2030, 3, 1, 17, tzinfo=PARIS)}
    return programme.EventDetails(**{**values, **changes})


def test_create_event_without_closing_time_closes_at_the_start(ctx):
    event = programme.create_event(_details())
    db.session.expire_all()
    assert db.session.get(Event, event.id).registration_closes_at == datetime(2030, 3, 1, 9, tzinfo=PARIS)


def test_create_event_closing_after_the_end_is_refused(ctx):
    late = datetime(2030, 3, 1, 17, 1, tzinfo=PARIS)
    with pytest.raises(programme.ProgrammeError) as refused:
        programme.create_event(_details(registration_closes_at=late))
    assert set(refused.value.problems) == {"registration_closes_at"}
    assert db.session.scalar(select(Event.id)) is None


def test_create_event_may_close_registration_at_the_end(ctx):
    end = datetime(2030, 3, 1, 17, tzinfo=PARIS)
    assert programme.create_event(_details(registration_closes_at=end)).registration_closes_at == end


def test_update_event_closing_after_the_end_is_refused(ctx, seeded):
    with pytest.raises(programme.ProgrammeError) as refused:
        programme.update_event(seeded.id, _details(slug=SLUG, starts_at=seeded.starts_at, ends_at=seeded.ends_at,
                                                   registration_closes_at=seeded.ends_at + timedelta(minutes=1)))
    assert set(refused.value.problems) == {"registration_closes_at"}


def test_admin_event_form_leaves_closing_time_empty_for_the_start(app, seeded):
    organiser = signed_in_client(app, Role.organiser)
    page = organiser.get(f"/admin/events/{SLUG}/edit?lang=en").text
    assert "Leave empty to close registration when the event starts." in page
    assert 'name="registration_closes_at" type="datetime-local" value=""' in page
    form = {"title": "Journée test", "slug": "journee-test", "timezone": "Europe/Paris",
            "starts_at": "2030-03-01T09:00", "ends_at": "2030-03-01T17:00", "registration_closes_at": ""}
    assert organiser.post("/admin/events/new", data=form).status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == "journee-test"))
        assert event.registration_closes_at == datetime(2030, 3, 1, 9, tzinfo=PARIS)


def test_admin_event_form_refuses_closing_after_the_end_on_the_field(app, seeded):
    organiser = signed_in_client(app, Role.organiser)
    form = {"title": "Journée test", "slug": "journee-test", "timezone": "Europe/Paris",
            "starts_at": "2030-03-01T09:00", "ends_at": "2030-03-01T17:00",
            "registration_closes_at": "2030-03-01T18:00"}
    page = organiser.post("/admin/events/new?lang=en", data=form).text
    assert ('<p class="error" id="registration_closes_at-error">Registration cannot close after the event ends.</p>'
            in page)
    with app.app_context():
        assert db.session.scalar(select(Event.id).where(Event.slug == "journee-test")) is None


def test_event_written_without_closing_time_closes_at_its_start(ctx):
    start = datetime(2030, 3, 1, 9, tzinfo=PARIS)
    event = Event(slug="direct", title="Direct", starts_at=start, ends_at=start + timedelta(hours=8))
    db.session.add(event)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Event, event.id).registration_closes_at == start


# import-event ---------------------------------------------------------------------------------------------

@pytest.fixture
def exported(app, seeded) -> dict:
    with app.app_context():
        document = transfer.export_event(SLUG)
        db.session.execute(db.delete(Event))
        db.session.commit()
    return document


@pytest.mark.parametrize("written", ["missing", "null"])
def test_import_without_closing_time_closes_at_the_start(app, exported, written):
    document = copy.deepcopy(exported)
    row = document["tables"]["event"][0]
    if written == "missing":
        del row["registration_closes_at"]
    else:
        row["registration_closes_at"] = None  # as exported before the column was required
    with app.app_context():
        transfer.import_event(document)
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        assert event.registration_closes_at == datetime.fromisoformat(row["starts_at"])


def test_import_closing_after_the_end_is_refused(app, exported):
    document = copy.deepcopy(exported)
    row = document["tables"]["event"][0]
    row["registration_closes_at"] = (datetime.fromisoformat(row["ends_at"]) + timedelta(minutes=1)).isoformat()
    with app.app_context():
        with pytest.raises(transfer.TransferError, match="event #1: .*cannot close after the event ends"):
            transfer.import_event(document)
        assert db.session.scalar(select(Event.id)) is None
