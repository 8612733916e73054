"""Changing the address on the self-service page (hardening issue, point 7, "self-service enumeration"): the
page answers the same whether another registrant uses the address or not; a new address takes effect only
through the signed link e-mailed to it (a GET shows it, a POST applies it), and the old address is told."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from seminar.extensions import db
from seminar.registration import services
from seminar.registration.models import Registration
from tests.registration.conftest import REGISTER_URL, form_data, link_in, outbox

ENGLISH = {"Accept-Language": "en"}
FRENCH = {"Accept-Language": "fr"}
CONFIRM_LINK = re.compile(r"http://seminar\.test(/registrations/confirm-email/[A-Za-z0-9_.-]+)")
SENT = "We sent a confirmation link to the new address"
TAKEN = "This address is already registered for this event"
NOT_VALID = "This confirmation link is not valid, or no longer"
LIMITED = {"RATELIMIT_ENABLED": True}


def _registered(client, app, seeded, email: str, headers=ENGLISH) -> str:
    """Register `email` (in English unless told) and return its self-service path."""
    response = client.post(REGISTER_URL, data=form_data(seeded, email=email), headers=headers)
    assert response.status_code == 303
    return link_in([m for m in outbox(app) if m.to_addr == email][-1])


def _details(seeded, **overrides) -> dict:
    data = form_data(seeded, **overrides)
    data.pop("sessions"), data.pop("consent_privacy")
    return data


def _ask(client, seeded, link: str, email: str, headers=ENGLISH, **overrides):
    return client.post(f"{link}/details", data=_details(seeded, email=email, **overrides), headers=headers)


def _messages_to(app, address: str):
    return [m for m in outbox(app) if m.to_addr == address]


def _confirm_path(app, address: str) -> str:
    [mail] = _messages_to(app, address)
    match = CONFIRM_LINK.search(mail.text_body)
    assert match, mail.text_body
    assert match.group(0) in mail.html_body
    return match.group(1)


def _without_csrf_tokens(page: str) -> str:
    """The page without its CSRF tokens, which carry the time they were made."""
    return re.sub(r'<input[^>]*name="csrf_token"[^>]*>', "", page)


def _registration(app, registration_id: int | None = None) -> Registration:
    with app.app_context():
        statement = select(Registration).order_by(Registration.id)
        if registration_id is not None:
            statement = statement.where(Registration.id == registration_id)
        registration = db.session.scalars(statement).first()
        db.session.expunge_all()
    return registration


def test_email_change_answer_is_the_same_whether_the_address_is_taken_or_free(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _registered(client, app, seeded, "taken@example.org")
    taken = _ask(client, seeded, link, "taken@example.org", organisation="Inserm")
    taken_page = client.get(link, headers=ENGLISH)
    free = _ask(client, seeded, link, "free@example.org", organisation="Inserm")
    free_page = client.get(link, headers=ENGLISH)
    assert taken.status_code == free.status_code == 303
    assert taken.headers["Location"] == free.headers["Location"]
    # The pages that follow (flash message included) are the same, word for word.
    assert taken_page.status_code == free_page.status_code == 200
    assert SENT in taken_page.text
    assert _without_csrf_tokens(taken_page.text) == _without_csrf_tokens(free_page.text)
    # The other details are saved; the address is not changed yet.
    registration = _registration(app)
    assert (registration.organisation, registration.email) == ("Inserm", "camille.durand@example.org")


def test_email_change_to_a_taken_address_sends_no_mail(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _registered(client, app, seeded, "taken@example.org")
    before = len(outbox(app))
    assert _ask(client, seeded, link, "Taken@Example.org").status_code == 303
    assert len(outbox(app)) == before
    assert _registration(app).email == "camille.durand@example.org"


def test_email_change_sends_a_confirmation_link_to_the_new_address(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    assert _ask(client, seeded, link, "camille@new.example.org").status_code == 303
    [mail] = _messages_to(app, "camille@new.example.org")
    assert mail.subject.startswith("Confirm your new e-mail address")  # the registrant's language (English)
    assert seeded.title_en in mail.subject  # the English title, in an English e-mail
    path = _confirm_path(app, "camille@new.example.org")
    # Only the link that confirms the address: neither the self-service link nor the registrant's name.
    assert link not in mail.text_body and link not in mail.html_body
    assert "Camille" not in mail.text_body and "Durand" not in mail.html_body
    assert "48 hours" in mail.text_body
    assert path.startswith("/registrations/confirm-email/")


def test_email_change_link_opened_with_get_changes_nothing(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "camille@new.example.org")
    path = _confirm_path(app, "camille@new.example.org")
    for _ in range(2):  # a mail scanner, then the person
        page = client.get(path, headers=ENGLISH)
        assert page.status_code == 200
        assert "camille@new.example.org" in page.text and "Use this address" in page.text
        assert f'action="{path}"' in page.text and 'method="post"' in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert client.head(path).status_code == 200
    assert _registration(app).email == "camille.durand@example.org"
    assert _messages_to(app, "camille.durand@example.org")[-1].subject.startswith("Your registration is confirmed")


def test_email_change_post_applies_it_and_the_old_address_is_told(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    before = _registration(app)
    _ask(client, seeded, link, "Camille@New.example.org")
    path = _confirm_path(app, "Camille@New.example.org")
    applied = client.post(path, headers=ENGLISH)
    assert applied.status_code == 303
    assert applied.headers["Location"].endswith(link)  # the self-service link is unchanged
    page = client.get(link, headers=ENGLISH)
    assert page.status_code == 200 and "Your e-mail address has been changed." in page.text
    after = _registration(app)
    assert (after.email, after.email_key) == ("Camille@New.example.org", "camille@new.example.org")
    assert after.token_hash == before.token_hash
    notice = _messages_to(app, "camille.durand@example.org")[-1]
    assert notice.subject.startswith("Your e-mail address has been changed")
    assert "no longer to this one" in notice.text_body and "no longer to this one" in notice.html_body
    assert "/registrations/" not in notice.text_body  # no link for whoever reads the old mailbox
    # What the registration is sent from now on goes to the new address.
    with app.app_context():
        services.send_link(after.id)
    assert link_in(_messages_to(app, "Camille@New.example.org")[-1]) == link


def test_email_change_link_used_once_only(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "camille@new.example.org")
    path = _confirm_path(app, "camille@new.example.org")
    assert client.post(path).status_code == 303
    for again in (client.post(path, headers=ENGLISH), client.get(path, headers=ENGLISH)):
        assert again.status_code == 400 and NOT_VALID in again.text
    assert len(_messages_to(app, "camille.durand@example.org")) == 2  # the confirmation, then one notice


def test_email_change_tampered_or_malformed_links_are_refused_cleanly(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "camille@new.example.org")
    path = _confirm_path(app, "camille@new.example.org")
    code = path.rsplit("/", 1)[1]
    payload, stamp, signature = code.rsplit(".", 2)
    # The signature's first character: its last one carries only 2 of its 6 bits, so changing it may change
    # nothing once decoded.
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    tampered = [f"{payload}.{stamp}.{forged}", code[:-2], f"{payload}x.{stamp}.{signature}",
                "x", "a.b.c", "." * 40, "é" * 10, "A" * 5000, signature]
    for bad in tampered:
        for response in (client.get(f"/registrations/confirm-email/{bad}", headers=ENGLISH),
                         client.post(f"/registrations/confirm-email/{bad}", headers=ENGLISH)):
            assert response.status_code == 400, bad
            assert NOT_VALID in response.text, bad
    assert _registration(app).email == "camille.durand@example.org"


@pytest.mark.parametrize("app_config", [{"REGISTRATION_EMAIL_CHANGE_MAX_AGE": 0}])
def test_email_change_expired_link_is_refused(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "camille@new.example.org")
    path = _confirm_path(app, "camille@new.example.org")
    time.sleep(1.1)  # signed times count in whole seconds
    for response in (client.get(path, headers=ENGLISH), client.post(path, headers=ENGLISH)):
        assert response.status_code == 400
        assert "This confirmation link has expired" in response.text
    assert _registration(app).email == "camille.durand@example.org"


def test_email_change_link_stops_working_when_the_address_changed_another_way(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "first@example.org")
    _ask(client, seeded, link, "second@example.org")
    first, second = _confirm_path(app, "first@example.org"), _confirm_path(app, "second@example.org")
    assert client.post(second).status_code == 303
    refused = client.post(first, headers=ENGLISH)
    assert refused.status_code == 400 and NOT_VALID in refused.text
    assert _registration(app).email == "second@example.org"


@pytest.mark.parametrize("ending", ["cancel", "erase"])
def test_email_change_link_stops_working_when_the_registration_is_cancelled_or_erased(client, app, seeded, ending):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "camille@new.example.org")
    path = _confirm_path(app, "camille@new.example.org")
    assert client.post(f"{link}/{ending}", data={"confirm": "yes"}).status_code == 303
    for response in (client.get(path, headers=ENGLISH), client.post(path, headers=ENGLISH)):
        assert response.status_code == 400 and NOT_VALID in response.text
    assert not _messages_to(app, "camille@new.example.org")[1:]


def test_email_change_address_taken_meanwhile_is_said_on_the_confirmation_page(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    _ask(client, seeded, link, "camille@new.example.org")
    path = _confirm_path(app, "camille@new.example.org")
    _registered(client, app, seeded, "Camille@new.example.org")  # the same mailbox registers meanwhile
    refused = client.post(path, headers=ENGLISH)
    assert refused.status_code == 400 and TAKEN in refused.text
    assert _registration(app).email == "camille.durand@example.org"
    assert len(_messages_to(app, "camille.durand@example.org")) == 1  # its confirmation only: no notice


def test_email_change_same_address_spelled_differently_is_saved_at_once(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    before = len(outbox(app))
    assert _ask(client, seeded, link, "Camille.Durand@example.org").status_code == 303
    page = client.get(link, headers=ENGLISH)
    assert "Your details have been saved." in page.text and SENT not in page.text
    assert _registration(app).email == "Camille.Durand@example.org"
    assert len(outbox(app)) == before


def test_email_change_pages_in_french_and_english(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org", headers=FRENCH)
    manage = client.get(link, headers=FRENCH)
    assert 'id="email-help"' in manage.text and 'aria-describedby="email-help"' in manage.text
    _ask(client, seeded, link, "camille@new.example.org", headers=FRENCH)
    [mail] = _messages_to(app, "camille@new.example.org")
    assert '<html lang="fr">' in mail.html_body  # written in the registrant's language
    path = _confirm_path(app, "camille@new.example.org")
    for headers, lang in ((FRENCH, "fr"), (ENGLISH, "en")):
        page = client.get(path, headers=headers)
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
        assert 'name="viewport"' in page.text and "camille@new.example.org" in page.text
        assert 'type="submit"' in page.text
        bad = client.get("/registrations/confirm-email/nope", headers=headers)
        assert bad.status_code == 400 and f'<html lang="{lang}">' in bad.text


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_SELF_SERVICE_PER_REGISTRATION": "3 per hour"}])
def test_email_change_details_posts_limited_per_registration(client, app, seeded):
    link = _registered(client, app, seeded, "camille.durand@example.org")
    other = _registered(client, app, seeded, "other@example.org")
    codes = [_ask(client, seeded, link, f"probe{n}@example.org").status_code for n in range(4)]
    assert codes == [303, 303, 303, 429]
    assert client.post(f"{link}/details", data=_details(seeded, email="x@example.org"),
                       environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 429  # from anywhere
    assert _ask(client, seeded, other, "elsewhere@example.org").status_code == 303  # another registration


@pytest.mark.parametrize("app_config", [{**LIMITED, "RATELIMIT_SELF_SERVICE_PER_IP": "2 per hour"}])
def test_email_change_details_and_confirmation_posts_limited_per_ip(client, app, seeded):
    links = [_registered(client, app, seeded, f"person{n}@example.org") for n in range(3)]
    codes = [_ask(client, seeded, link, f"new{n}@example.org").status_code for n, link in enumerate(links)]
    assert codes == [303, 303, 429]
    elsewhere = client.post(f"{links[2]}/details", data=_details(seeded, email="new2@example.org"),
                            environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 303
    path = _confirm_path(app, "new0@example.org")
    confirms = [client.post(path, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code for _ in range(3)]
    assert confirms == [303, 400, 429]
    assert "Too many requests" in client.post(path, headers=ENGLISH,
                                              environ_base={"REMOTE_ADDR": "198.51.100.1"}).text


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_email_change_confirmation_needs_the_page_csrf_token(client, app, seeded):
    page = client.get(REGISTER_URL).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(REGISTER_URL, data={**form_data(seeded), "csrf_token": token}).status_code == 303
    link = link_in(outbox(app)[-1])
    _ask(client, seeded, link, "camille@new.example.org", csrf_token=token)
    path = _confirm_path(app, "camille@new.example.org")
    assert client.post(path).status_code == 400
    assert _registration(app).email == "camille.durand@example.org"
    form = client.get(path).text
    page_token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post(path, data={"csrf_token": page_token}).status_code == 303
    assert _registration(app).email == "camille@new.example.org"
