"""Invitation-only events: the public form explains it and takes requests for an invitation; a registration
arrives through an invitation link (its address fixed) or from the back-office; the API says which."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from seminar.events.models import Event
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.invitations import services
from seminar.invitations.models import InvitationState
from seminar.mail.models import OutboxMessage
from seminar.registration.models import Registration
from tests.admin.conftest import register
from tests.invitations.conftest import event_id, import_guests, invitation, mails, token_in
from tests.registration.conftest import form_data


def _invitation_only(app, value: bool = True) -> None:
    with app.app_context():
        db.session.scalar(select(Event).where(Event.slug == SLUG)).invitation_only = value
        db.session.commit()


def _registrations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Registration))


def test_api_says_whether_registration_is_by_invitation(app, client, seeded):
    assert client.get(f"/api/events/{SLUG}").get_json()["registration"]["invitation_only"] is False
    _invitation_only(app)
    assert client.get(f"/api/events/{SLUG}").get_json()["registration"]["invitation_only"] is True


def test_public_form_explains_and_refuses_a_registration_without_invitation(app, client, seeded):
    _invitation_only(app)
    page = html.unescape(client.get(f"/events/{SLUG}/register").get_data(as_text=True))
    assert "L'inscription à ce séminaire se fait sur invitation" in page and "Demander une invitation" in page
    assert 'name="consent_privacy"' not in page  # no registration form to fill in for nothing
    refused = client.post(f"/events/{SLUG}/register", data=form_data(seeded, email="nobody@example.org"))
    assert refused.status_code == 200
    assert "L'inscription à ce séminaire se fait sur invitation" in html.unescape(refused.get_data(as_text=True))
    assert _registrations(app) == 0
    register(app, seeded.id, 1)  # the organisers still can
    assert _registrations(app) == 1


def test_invitation_link_registers_with_the_invited_address_fixed(app, client, seeded):
    _invitation_only(app)
    import_guests(app)
    with app.app_context():
        services.send_invitations(event_id(app))
    token = {m.to_addr: token_in(m) for m in mails(app) if "/invitations/" in m.text_body}["camille@example.org"]
    accept = html.unescape(client.get(f"/invitations/{token}").get_data(as_text=True))
    link = accept[accept.index(f"/events/{SLUG}/register?"):].split('"', 1)[0]
    form = html.unescape(client.get(link).get_data(as_text=True))
    assert 'value="camille@example.org"' in form and "readonly" in form and f'value="{token}"' in form
    data = {**form_data(seeded, email="someone.else@example.org", first_name="Camille", last_name="Durand"),
            "invitation": token}
    assert client.post(f"/events/{SLUG}/register", data=data).status_code == 303
    with app.app_context():
        emails = list(db.session.scalars(select(Registration.email)))
    assert emails == ["camille@example.org"]  # the invitation's address, whatever was sent
    assert invitation(app, "camille@example.org").state is InvitationState.registered


def test_a_request_for_an_invitation_reaches_the_organisers(app, client, seeded):
    _invitation_only(app)
    sent = client.post(f"/events/{SLUG}/request-invitation", data={
        "first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org",
        "organisation": "Ligue contre le cancer", "message": "Je représente le comité de l'Yonne."})
    assert sent.status_code == 303
    assert "Votre demande a été transmise aux organisateurs" in html.unescape(
        client.get(sent.headers["Location"]).get_data(as_text=True))
    [mail] = [m for m in mails(app) if m.subject.startswith("Demande d'invitation")]
    assert mail.to_addr == seeded.contact_email and mail.reply_to == "jeanne@example.org"
    assert "Jeanne Martin" in mail.text_body and "comité de l'Yonne" in mail.text_body and mail.html_body
    bad = client.post(f"/events/{SLUG}/request-invitation", data={"first_name": "", "last_name": "X",
                                                                  "email": "not-an-address"})
    assert bad.status_code == 400
    assert "Saisissez une adresse e-mail valide" in html.unescape(bad.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    _invitation_only(app, False)
    assert client.post(f"/events/{SLUG}/request-invitation", data={}).status_code == 404
