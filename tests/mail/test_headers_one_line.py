"""Issue 15, point 3: a title stored with a line separator (pasted from Word before typed text was cleaned)
no longer stops the confirmation and the round-table invite from being built and sent; headers are one line."""

from __future__ import annotations

import email
from email.policy import default

import pytest
from sqlalchemy import update

from seminar.events.models import Event, Session
from seminar.extensions import db
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import deliver_pending
from seminar.registration import services
from seminar.registration.services import RegistrationDetails
from tests.registration.conftest import round_table_ids


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}


def test_confirmation_and_invite_are_sent_when_titles_hold_line_separators(app, seeded, smtp):
    table = round_table_ids(seeded)[0]
    with app.app_context():  # written directly, as data saved before the cleaning existed
        db.session.execute(update(Event).where(Event.id == seeded.id).values(title="Séminaire\x0b20\r\nans\x07"))
        db.session.execute(update(Session).where(Session.id == table).values(title="Table\u2028ronde\x85A"))
        db.session.commit()
        details = RegistrationDetails(first_name="Ana", last_name="Lopes", email="ana@example.org")
        services.register(seeded.id, details, [table])
    smtp.start()

    with app.app_context():
        counts = deliver_pending()
        statuses = set(db.session.scalars(db.select(OutboxMessage.status)))

    assert counts["failed"] == counts["retry"] == 0 and counts["sent"] == 2
    assert statuses == {OutboxStatus.sent}
    sent = [email.message_from_bytes(raw, policy=default) for raw in smtp.recorder.messages]
    raw_subjects = [raw.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0] for raw in smtp.recorder.messages]
    subjects = sorted(str(message["Subject"]) for message in sent)
    assert any(subject.endswith("Séminaire 20 ans") for subject in subjects), subjects
    assert any(subject.endswith("Table ronde A") for subject in subjects), subjects
    assert all(not any(ch in subject for ch in "\r\n\x0b\x07\x85\u2028") for subject in subjects)
    assert all(b"\x0b" not in raw and b"\x07" not in raw for raw in raw_subjects)
    # with their invites: inline (an alternative of the body) and as an attached file
    assert all(message.get_content_type() == "multipart/mixed" for message in sent)
    assert all(message.get_payload(0).get_content_type() == "multipart/alternative" for message in sent)
