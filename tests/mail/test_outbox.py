"""The outbox: written with the change, delivered once, survives an SMTP outage, multipart, calendar parts."""

from __future__ import annotations

import email
import time
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import deliver_pending, enqueue
from seminar.registration import services
from seminar.registration.services import RegistrationDetails


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}


def _register(app, event_id, n, locale="fr"):
    with app.app_context():
        details = RegistrationDetails(first_name=f"Ana{n}", last_name="Lopes", email=f"ana{n}@example.org")
        return services.register(event_id, details, [], locale=locale)


def _messages(app):
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
    return rows


def test_smtp_outage_loses_nothing_and_sends_nothing_twice(app, seeded, smtp):
    outcomes = [_register(app, seeded.id, n) for n in range(3)]  # the SMTP server is down
    assert all(o.created for o in outcomes)
    with app.app_context():
        # The registrations only recorded their e-mails: the worker writes them, then tries to send them.
        assert deliver_pending() == {"composed": 3, "claimed": 3, "sent": 0, "retry": 3, "failed": 0}
        assert deliver_pending()["claimed"] == 0  # backing off
    waiting = _messages(app)
    assert {m.status for m in waiting} == {OutboxStatus.pending}
    assert all(m.attempts == 1 and m.next_attempt_at > utcnow() and m.last_error for m in waiting)

    smtp.start()
    later = utcnow() + timedelta(hours=2)
    with app.app_context():
        assert deliver_pending(now=later)["sent"] == 3
        assert deliver_pending(now=later + timedelta(days=1))["claimed"] == 0
    assert len(smtp.recorder.messages) == 3
    recipients = sorted(email.message_from_bytes(raw)["To"] for raw in smtp.recorder.messages)
    assert recipients == ["ana0@example.org", "ana1@example.org", "ana2@example.org"]
    assert {m.status for m in _messages(app)} == {OutboxStatus.sent}


def test_message_is_multipart_in_the_registrants_language_with_the_link(app, seeded, smtp):
    smtp.start()
    _register(app, seeded.id, 1, locale="en")
    with app.app_context():
        deliver_pending()
    [raw] = smtp.recorder.messages
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"  # the body's alternatives, then the invite's file
    assert message.get_payload(0).get_content_type() == "multipart/alternative"
    assert "Your registration is confirmed" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "http://seminar.test/registrations/" in text and 'href="http://seminar.test/registrations/' in html
    assert "Hello Ana1 Lopes" in text


def test_calendar_part_is_sent_with_its_method(app, smtp):
    smtp.start()
    ics = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
    with app.app_context():
        enqueue("a@example.org", "Cancelled", "text", "<p>html</p>", ics=ics, ics_method="CANCEL")
        db.session.commit()
        deliver_pending()
    message = email.message_from_bytes(smtp.recorder.messages[0], policy=policy.default)
    [calendar] = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert calendar.get_param("method") == "CANCEL" and calendar.get_content_charset() == "utf-8"
    assert b"Content-Type: text/calendar; method=CANCEL; charset=UTF-8" in smtp.recorder.messages[0]
    assert "METHOD:CANCEL" in calendar.get_content()
    # The same invite as a file, for the mail clients that show no inline calendar part.
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics" and attachment.get_content_type() == "application/ics"
    assert attachment.get_content() == ics.encode()


def test_coalesce_key_replaces_a_pending_message(app):
    with app.app_context():
        first = enqueue("a@example.org", "v1", "one", coalesce_key="k")
        db.session.commit()
        second = enqueue("a@example.org", "v2", "two", coalesce_key="k")
        db.session.commit()
        assert first.id == second.id
        other = enqueue("a@example.org", "other", "x", coalesce_key="other")
        db.session.commit()
        assert other.id != first.id
        [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.coalesce_key == "k")).all()
        assert row.subject == "v2"


def test_enqueued_mail_is_rolled_back_with_its_change(app):
    with app.app_context():
        enqueue("a@example.org", "never", "x")
        db.session.rollback()
        assert db.session.scalar(select(OutboxMessage)) is None


def test_a_message_failing_too_often_is_marked_failed(app, seeded):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    _register(app, seeded.id, 1)
    with app.app_context():
        deliver_pending()
        assert deliver_pending(now=utcnow() + timedelta(days=1))["failed"] == 1
    assert _messages(app)[0].status is OutboxStatus.failed


def test_delivery_after_commit_runs_in_the_background(app, seeded, smtp):
    smtp.start()
    app.config["MAIL_DELIVER_AFTER_COMMIT"] = True
    _register(app, seeded.id, 1)
    deadline = time.monotonic() + 30
    while not smtp.recorder.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp.recorder.messages) == 1
    while _messages(app)[0].status is not OutboxStatus.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _messages(app)[0].status is OutboxStatus.sent


def test_cli_delivers_pending_mail(app, runner, seeded, smtp):
    _register(app, seeded.id, 1)
    smtp.start()
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(smtp.recorder.messages) == 1
