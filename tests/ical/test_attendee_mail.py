"""What attendees receive, read from a real local SMTP server: the badge in hand (check-in QR code as an inline
image and the badge's link), a text and an HTML part, a greeting and a Reply-To in every message, invites
included, and times without seconds."""

from __future__ import annotations

import re
from email.utils import parseaddr

import pytest

from seminar.admin.mailing import Mailing, send_mailing
from seminar.admin.registrants import RegistrantFilters
from seminar.badges.codes import make_code_for_id
from seminar.badges.qr import qr_png
from seminar.events.models import Event
from seminar.extensions import db
from tests.ical.conftest import SLUG, deliver, edit_session, register, round_table_ids


@pytest.fixture
def app_config(smtp_inbox):
    return {"MAIL_URL": smtp_inbox.url}


def _parts(message) -> dict[str, list]:
    found: dict[str, list] = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def test_confirmation_carries_the_check_in_qr_code_and_the_badge_link(app, seeded, smtp_inbox):
    first = round_table_ids(app)[0]
    registration_id, token = register(app, "camille@example.org", [first])
    deliver(app)
    [confirmation] = [m for m in smtp_inbox.take() if "confirmée" in m["Subject"]]
    parts = _parts(confirmation)
    html = parts["text/html"][0].get_payload(decode=True).decode()
    text = parts["text/plain"][0].get_payload(decode=True).decode()
    [qr] = [p for p in parts["image/png"] if p["Content-ID"] == "<checkin-qr>"]
    assert 'src="cid:checkin-qr"' in html
    with app.app_context():
        assert qr.get_payload(decode=True) == qr_png(make_code_for_id(registration_id))  # this registrant's code
    badge = f"/registrations/{token}/badge.pdf"
    assert badge in html and badge in text
    assert "Télécharger mon badge (PDF)" in html


def test_self_service_page_shows_the_qr_code_and_links_the_badge(client, app, seeded):
    _registration_id, token = register(app, "camille@example.org", [])
    page = client.get(f"/registrations/{token}").get_data(as_text=True)
    assert f'href="/registrations/{token}/badge.pdf"' in page and "Télécharger mon badge" in page
    assert '<figure class="checkin-qr"' in page and "<svg" in page
    assert client.get(f"/registrations/{token}/badge.pdf").status_code == 200


def test_every_message_has_text_and_html_a_greeting_a_reply_to_and_no_seconds(app, seeded, smtp_inbox):
    first, second = round_table_ids(app)[:2]
    register(app, "camille@example.org", [first, second])
    edit_session(app, first, title="Table ronde 1, nouveau titre")  # an update of the invite
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        send_mailing(event, RegistrantFilters(), Mailing("Programme", "Bonjour {first_name},\n\nÀ bientôt."))
    deliver(app)
    messages = smtp_inbox.take()
    # the confirmation, two invites (the first one's update replaced it, unsent), the organisers' message
    assert len(messages) == 4 and any(m["Subject"] == "Programme" for m in messages)
    for message in messages:
        parts = _parts(message)
        assert parts.get("text/plain") and parts.get("text/html"), message["Subject"]
        text = parts["text/plain"][0].get_payload(decode=True).decode()
        html = parts["text/html"][0].get_payload(decode=True).decode()
        assert parseaddr(message["Reply-To"])[1] == seeded.contact_email
        assert text.startswith("Bonjour"), message["Subject"]
        assert not re.search(r"\d\d?:\d\d:\d\d", text + html), message["Subject"]
    invites = [m for m in messages if _parts(m).get("text/calendar")]
    assert invites and all(_parts(m)["application/ics"][0].get_filename() == "invite.ics" for m in invites)
    round_table_invites = [m for m in invites if m["Subject"].strip().startswith("Invitation")]
    assert all("invitation à part" in _parts(m)["text/plain"][0].get_payload(decode=True).decode()
               for m in round_table_invites)
