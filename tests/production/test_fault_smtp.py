"""SMTP down during a rush of 100 registrations: every registration is saved with its mail, and every mail
is delivered exactly once when the server comes back (aiosmtpd started later on the same port)."""

from __future__ import annotations

import email
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import deliver_pending
from seminar.registration.models import Registration
from tests.mail.conftest import SmtpServer, free_port
from tests.registration.conftest import REGISTER_URL, form_data

REGISTRATIONS = 100


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port):
    # As in production: the web process tries to deliver right after each commit (and fails, SMTP is down).
    return {"MAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "MAIL_DELIVER_AFTER_COMMIT": True,
            "MAIL_AFTER_COMMIT_DELAY": 0.05}


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post_registration(base_url: str, seeded, n: int) -> int:
    body = urllib.parse.urlencode(form_data(seeded, email=f"outage{n}@example.org"), doseq=True).encode()
    request = urllib.request.Request(base_url + REGISTER_URL, data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:  # the 303 arrives here since redirects are not followed
        return error.code


def _outbox_counts(app) -> dict:
    with app.app_context():
        counts = dict(db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        db.session.remove()
    return counts


def _background_attempts_done(app) -> bool:
    with app.app_context():
        busy = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            (OutboxMessage.status == OutboxStatus.sending)
            | ((OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.attempts == 0))))
        db.session.remove()
    return busy == 0


def _wait_for_background_attempts(app, seconds: float = 60) -> None:
    """The background delivery tries every new message once (and fails: SMTP is down); let it finish."""
    deadline = time.monotonic() + seconds
    while not _background_attempts_done(app) and time.monotonic() < deadline:
        time.sleep(0.05)


def _delivery_threads() -> int:
    return [t.name for t in threading.enumerate()].count("outbox-delivery")


def test_smtp_down_during_registrations_all_saved_and_mailed_exactly_once(app, seeded, live_server, smtp):
    threads_before = _delivery_threads()
    with ThreadPoolExecutor(max_workers=10) as pool:  # SMTP is down: nobody listens on the port
        statuses = list(pool.map(lambda n: _post_registration(live_server, seeded, n), range(REGISTRATIONS)))
    assert statuses == [303] * REGISTRATIONS
    _wait_for_background_attempts(app)

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == REGISTRATIONS
        messages = list(db.session.scalars(select(OutboxMessage)))
        registrations_mailed = {m.registration_id for m in messages}
        expected_ids = {m.message_id for m in messages}
        assert db.session.scalar(select(func.count()).select_from(Registration)
                                 .where(Registration.id.not_in(registrations_mailed))) == 0
        # Each was tried during the outage, and is waiting for the next attempt.
        assert all(m.status is OutboxStatus.pending and m.attempts >= 1 and m.last_error for m in messages)
        assert smtp.recorder.messages == []
        db.session.remove()

    smtp.start()  # the mail server is back, on the same port
    later = utcnow() + timedelta(hours=2)  # past every back-off
    with app.app_context():
        for _ in range(10):
            if deliver_pending(limit=500, now=later)["claimed"] == 0:
                break
        assert deliver_pending(limit=500, now=later + timedelta(days=1))["claimed"] == 0
        db.session.remove()
    time.sleep(0.2)  # a background attempt woken meanwhile would have found nothing due: nothing more arrives

    received = [email.message_from_bytes(raw)["Message-ID"] for raw in smtp.recorder.messages]
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert set(received) == expected_ids
    recipients = {email.message_from_bytes(raw)["To"] for raw in smtp.recorder.messages}
    assert recipients == {f"outage{n}@example.org" for n in range(REGISTRATIONS)}
    assert _outbox_counts(app) == {OutboxStatus.sent: len(expected_ids)}
    # One delivery thread for the app, woken by every commit, not one per request.
    assert _delivery_threads() - threads_before == 1
