"""Claims are leases: a worker killed without warning (SIGKILL) has its messages sent by the next one within
MAIL_CLAIM_LEASE seconds, at most the message it was sending twice (same Message-ID); a living worker renews
its lease, so a message that takes long to send is not taken over."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from seminar.mail.models import OutboxStatus
from seminar.mail.outbox import deliver_pending
from tests.mail.processes import end, enqueue_many, output, received, rows, start_flask, statuses
from tests.waiting import wait_for

LEASE = 2  # seconds, MAIL_CLAIM_LEASE in these tests (renewed every 2/3 s)


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "MAIL_CLAIM_LEASE": LEASE}


def test_claims_of_a_killed_worker_are_sent_by_the_next_within_the_lease(app, smtp):
    messages = 20
    smtp.recorder.delay = 0.2
    smtp.start()
    expected = enqueue_many(app, messages)
    first = start_flask(app, "outbox", "deliver", "--watch", "--interval", "0.2", MAIL_URL=smtp.url,
                        MAIL_CLAIM_LEASE=LEASE, MAIL_CLAIM_BATCH=5)
    try:
        wait_for(lambda: len(smtp.recorder.messages) >= 2, "the first worker to send", deadline=60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        end(first)
    killed_at = time.monotonic()
    orphans = statuses(app).get(OutboxStatus.sending, 0)
    assert 0 < orphans <= 5, output(first)  # one batch was claimed, not everything

    smtp.recorder.delay = 0
    app.config["MAIL_CLAIM_BATCH"] = 5
    with app.app_context():  # the next worker (here in the test's process) looks twice a second
        while statuses(app) != {OutboxStatus.sent: messages} and time.monotonic() - killed_at < 60:
            deliver_pending()
            time.sleep(0.5)
    # Within the lease, not after a quarter of an hour (the former MAIL_CLAIM_TIMEOUT).
    assert time.monotonic() - killed_at < LEASE + 5
    assert statuses(app) == {OutboxStatus.sent: messages}
    got = received(smtp)
    assert set(got) == expected
    # Only the message whose SMTP transaction the kill interrupted may arrive twice, with its Message-ID.
    assert sum(got.values()) - messages <= 1
    assert sorted(m.attempts for m in rows(app)) == [1] * (messages - orphans) + [2] * orphans


def test_a_living_worker_renews_its_claims_past_the_lease(app, smtp):
    """Each message takes longer than the lease to be accepted: another worker looking meanwhile finds nothing
    to take over, and nothing is sent twice."""
    smtp.recorder.delay = LEASE * 0.8
    smtp.start()
    expected = enqueue_many(app, 2)
    outcome = {}

    def deliver() -> None:
        with app.app_context():
            outcome.update(deliver_pending())

    slow = threading.Thread(target=deliver)
    slow.start()
    try:
        time.sleep(LEASE * 1.3)  # past the first lease: the second message is still claimed, not yet sent
        with app.app_context():
            assert deliver_pending()["claimed"] == 0
    finally:
        slow.join(timeout=60)
    assert outcome["sent"] == 2
    got = received(smtp)
    assert set(got) == expected and max(got.values()) == 1
