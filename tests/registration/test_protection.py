"""CSRF on the form and rate limiting of the registration POST (both switched on here)."""

from __future__ import annotations

import re

import pytest

from tests.registration.conftest import REGISTER_URL, form_data


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True, "RATELIMIT_REGISTRATION_PER_IP": "3 per minute"}


def test_registration_without_csrf_token_is_refused(client, seeded):
    assert client.post(REGISTER_URL, data=form_data(seeded)).status_code == 400


def test_registration_with_csrf_token_goes_through(client, seeded):
    page = client.get(REGISTER_URL).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(REGISTER_URL, data={**form_data(seeded), "csrf_token": token}).status_code == 303


def test_self_service_posts_need_csrf_too(client, app, seeded):
    from tests.registration.conftest import link_in, outbox

    page = client.get(REGISTER_URL).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(REGISTER_URL, data={**form_data(seeded), "csrf_token": token})
    link = link_in(outbox(app)[0])
    refused = client.post(f"{link}/cancel")
    # Only the registration form comes back as typed (test_expired_form.py): the others keep the plain 400 page.
    assert refused.status_code == 400
    assert "Une erreur est survenue" in refused.text and "session-expired" not in refused.text


def test_too_many_registration_posts_get_a_friendly_429(client, seeded):
    page = client.get(REGISTER_URL).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = {**form_data(seeded), "csrf_token": token}
    codes = [client.post(REGISTER_URL, data=data).status_code for _ in range(4)]
    assert codes == [303, 303, 303, 429]
    page = client.post(REGISTER_URL, data=data)
    assert page.status_code == 429 and "Trop de requêtes" in page.text
    assert client.get(REGISTER_URL).status_code == 200  # reading the form is not limited
