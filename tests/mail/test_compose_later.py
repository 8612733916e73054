"""Registrant e-mails recorded by the change and written by the outbox worker: never sent unwritten, written
with the registration as it is then, a composition failure kept visible, nothing written for an erased one."""

from __future__ import annotations

import email

import pytest
from flask import Flask
from sqlalchemy import select

from seminar.extensions import db
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import add_composer, compose_pending, deliver_pending, enqueue_to_compose
from seminar.registration import services
from seminar.registration.services import RegistrationDetails
from tests.registration.conftest import round_table_ids


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}


def _register(app, event_id, n, sessions=()):
    with app.app_context():
        details = RegistrationDetails(first_name=f"Ana{n}", last_name="Lopes", email=f"ana{n}@example.org")
        return services.register(event_id, details, list(sessions))


def _messages(app, registration_id=None):
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if registration_id is not None:
            query = query.where(OutboxMessage.registration_id == registration_id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
    return rows


def test_recorded_email_is_written_before_it_is_sent(app, seeded, smtp):
    smtp.start()
    outcome = _register(app, seeded.id, 1)
    [recorded] = _messages(app)
    assert recorded.compose_kind and recorded.subject == "" and recorded.text_body == ""
    with app.app_context():
        counts = deliver_pending()
    assert counts["composed"] == 1 and counts["sent"] == 1
    [written] = _messages(app)
    assert written.compose_kind is None and written.compose_args is None
    assert written.message_id == recorded.message_id  # the same row, now written
    [raw] = smtp.recorder.messages
    sent = email.message_from_bytes(raw)
    [text] = [part for part in sent.walk() if part.get_content_type() == "text/plain"]
    assert sent["To"] == "ana1@example.org" and "Ana1" in text.get_payload(decode=True).decode()
    assert outcome.registration_id == written.registration_id


def test_unwritten_message_is_never_claimed_for_sending(app, seeded, smtp):
    smtp.start()
    with app.app_context():
        enqueue_to_compose("unknown-kind", {}, to_addr="nobody@example.org")
        db.session.commit()
        from seminar.mail import outbox

        assert outbox._claim(10, outbox.utcnow(), outbox._Lease(app)) == []
    assert smtp.recorder.messages == []


def test_composition_failure_marks_only_that_message_failed(app, seeded, smtp):
    smtp.start()
    with app.app_context():
        enqueue_to_compose("unknown-kind", {}, to_addr="nobody@example.org")
        db.session.commit()
    _register(app, seeded.id, 2)
    with app.app_context():
        counts = deliver_pending()
    assert counts["composed"] == 2 and counts["sent"] == 1
    broken, written = _messages(app)
    assert broken.status is OutboxStatus.failed and "unknown-kind" in broken.last_error
    assert written.status is OutboxStatus.sent
    assert len(smtp.recorder.messages) == 1


def test_composer_error_rolls_back_its_partial_writes(app: Flask, seeded):
    def half_then_fail(message, about):
        message.subject = "half written"
        raise RuntimeError("template missing")

    add_composer(app, "flaky", half_then_fail)
    with app.app_context():
        enqueue_to_compose("flaky", {"x": 1}, to_addr="someone@example.org")
        db.session.commit()
        assert compose_pending() == 1
    [message] = _messages(app)
    assert message.status is OutboxStatus.failed and message.subject == ""
    assert "RuntimeError: template missing" in message.last_error


def test_erased_registration_gets_nothing_written(app, seeded):
    outcome = _register(app, seeded.id, 3)
    with app.app_context():
        services.erase(outcome.registration_id)
        # Recorded after the erasure: the composer finds an anonymised registration and drops the message.
        enqueue_to_compose("registrant", {"kind": "link"}, to_addr="x@example.org",
                           registration_id=outcome.registration_id)
        db.session.commit()
        compose_pending()
    assert _messages(app, outcome.registration_id) == []


def test_seat_given_up_before_the_email_is_written_gets_no_invite(app, seeded):
    table = round_table_ids(seeded)[0]
    outcome = _register(app, seeded.id, 4, [table])
    with app.app_context():
        services.change_sessions(outcome.registration_id, [])
        compose_pending()
    messages = _messages(app, outcome.registration_id)
    # The confirmation and the update are written as things are now: the round table is no longer held,
    # so neither an invite for it nor the cancellation of an invite never sent.
    assert [m.compose_kind for m in messages] == [None, None]
    assert not [m for m in messages if (m.coalesce_key or "").startswith("ical:")]
    assert all(m.text_body for m in messages)
