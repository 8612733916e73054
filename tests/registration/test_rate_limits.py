"""Rate limits of the registration POST: per IP and per e-mail address, counting only the registrations made
(issue 14, point 10). The limiter is on, with its in-memory storage, fresh for each test's app."""

from __future__ import annotations

import pytest

from tests.registration.conftest import REGISTER_URL, form_data

LIMITED = {"RATELIMIT_ENABLED": True}


def _post(client, event, *, ip: str = "127.0.0.1", headers=None, **fields) -> int:
    return client.post(REGISTER_URL, data=form_data(event, **fields), environ_base={"REMOTE_ADDR": ip},
                       headers=headers).status_code


@pytest.mark.parametrize("app_config", [LIMITED])
def test_registration_hundred_colleagues_behind_one_address_all_register(client, seeded):
    # A circular e-mail at a hospital: everyone answers from the same NAT address, within the same minute here.
    codes = [_post(client, seeded, email=f"colleague{n}@chu.example.org") for n in range(100)]
    assert codes == [303] * 100


@pytest.mark.parametrize("app_config", [LIMITED])
def test_registration_one_address_posted_again_and_again_is_stopped(client, seeded):
    # Case and spaces make no difference: the address is read as the one-registration-per-address rule reads it.
    spellings = ["camille@example.org", "Camille@Example.org", " CAMILLE@example.org ", "camille@EXAMPLE.ORG",
                 "Camille@example.org", "camille@example.org"]
    assert [_post(client, seeded, email=email) for email in spellings] == [303] * 5 + [429]
    assert _post(client, seeded, email="camille@example.org", ip="192.0.2.7") == 429  # from anywhere
    assert _post(client, seeded, email="dominique@example.org") == 303  # the address is stopped, not the IP


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_REGISTRATION_PER_IP": "1 per hour"}])
def test_registration_form_sent_back_with_errors_is_not_counted(client, seeded):
    invalid = [_post(client, seeded, email=f"not-an-address-{n}", first_name="") for n in range(30)]
    assert invalid == [200] * 30
    assert _post(client, seeded, email="camille@example.org") == 303
    assert _post(client, seeded, email="dominique@example.org") == 429


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_REGISTRATION_PER_IP": "2 per hour"}])
def test_registration_per_ip_limit_read_from_config(client, seeded):
    codes = [_post(client, seeded, email=f"colleague{n}@example.org") for n in range(3)]
    assert codes == [303, 303, 429]
    assert _post(client, seeded, email="other@example.org", ip="192.0.2.7") == 303


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_REGISTRATION_PER_EMAIL": "2 per hour"}])
def test_registration_per_email_limit_read_from_config(client, seeded):
    codes = [_post(client, seeded, email="camille@example.org", ip=f"192.0.2.{n}") for n in range(3)]
    assert codes == [303, 303, 429]


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_REGISTRATION_PER_EMAIL": "1 per hour"}])
def test_registration_limit_reached_page_says_to_wait_in_french_and_english(client, seeded):
    assert _post(client, seeded) == 303
    french = client.post(REGISTER_URL, data=form_data(seeded), headers={"Accept-Language": "fr"})
    assert french.status_code == 429
    assert "Trop de requêtes" in french.text and "Merci de patienter" in french.text
    english = client.post(REGISTER_URL, data=form_data(seeded), headers={"Accept-Language": "en"})
    assert english.status_code == 429
    assert "Too many requests" in english.text and "Please wait a minute and try again." in english.text
