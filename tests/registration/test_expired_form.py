"""The registration form sent with a missing, expired or foreign CSRF token comes back as typed, with a fresh
token and a word to send it again; nothing is saved (issue 14, point 11). CSRF is on here, as in production."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from seminar.extensions import db
from seminar.registration.models import Registration
from tests.forms import browser_form
from tests.registration.conftest import REGISTER_URL, form_data, outbox, round_table_ids

EXPIRED_MESSAGE = "Your session expired while you were filling in the form: check your answers and submit again."


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def _form_state(html: str) -> dict[str, list[str]]:
    return browser_form(html, "/register", crlf=False)


def _typed(event) -> dict[str, list[str]]:
    """Every field filled in, two round tables and both boxes ticked."""
    values = form_data(event, first_name="Zoé", last_name="N'Diaye", email="zoe.ndiaye@chu.example.org",
                       organisation="CHU de Nantes", job_title="Praticienne hospitalière",
                       category=str(event.categories[1].id), sessions=[str(s) for s in round_table_ids(event)[:2]],
                       dietary="Sans gluten", accessibility="Fauteuil roulant", consent_listing="y")
    return {name: value if isinstance(value, list) else [value] for name, value in values.items()}


def _token(page: str) -> str:
    return _form_state(page)["csrf_token"][0]


def _registration_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Registration))


def _assert_shown_again_as_typed(app, response, typed):
    assert response.status_code == 400
    shown = _form_state(response.text)
    assert shown.pop("csrf_token") != [""]
    assert shown == typed
    assert 'id="session-expired"' in response.text
    assert _registration_count(app) == 0
    assert outbox(app) == []


@pytest.mark.parametrize("token", ["missing", "not-a-token"])
def test_expired_form_missing_or_bad_token_shown_again_as_typed_in_french(client, app, seeded, token):
    typed = _typed(seeded)
    data = typed if token == "missing" else {**typed, "csrf_token": token}
    response = client.post(REGISTER_URL, data=data)
    _assert_shown_again_as_typed(app, response, typed)
    assert '<html lang="fr"' in response.text and "S'inscrire au séminaire" in response.text


def test_expired_form_session_gone_shown_again_and_sent_again_in_english(app, seeded):
    # The form was opened in a session that has since expired: its token belongs to no session now.
    old_token = _token(app.test_client().get(REGISTER_URL).text)
    browser = app.test_client()
    typed = _typed(seeded)
    english = {"Accept-Language": "en"}
    response = browser.post(REGISTER_URL, data={**typed, "csrf_token": old_token}, headers=english)
    _assert_shown_again_as_typed(app, response, typed)
    assert EXPIRED_MESSAGE in response.text and "Register for the seminar" in response.text
    # Sent again as shown, with the fresh token (and the new session that came with it): registered as typed.
    again = browser.post(REGISTER_URL, data=_form_state(response.text), headers=english)
    assert again.status_code == 303
    with app.app_context():
        registration = db.session.scalars(select(Registration)).one()
        assert (registration.first_name, registration.dietary, registration.consent_listing) == (
            "Zoé", "Sans gluten", True)
        assert sorted(seat.session_id for seat in registration.seats) == round_table_ids(seeded)[:2]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True, "WTF_CSRF_TIME_LIMIT": 1}])
def test_expired_form_token_too_old_shown_again_as_typed(client, app, seeded):
    token = _token(client.get(REGISTER_URL).text)
    time.sleep(2.1)
    typed = _typed(seeded)
    response = client.post(REGISTER_URL, data={**typed, "csrf_token": token})
    _assert_shown_again_as_typed(app, response, typed)


def test_expired_form_unknown_event_gets_the_plain_400_page(client):
    response = client.post("/events/no-such-event/register", data={"first_name": "Zoé"})
    assert response.status_code == 400
    assert "Une erreur est survenue" in response.text and "session-expired" not in response.text
