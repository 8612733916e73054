"""Stopping the outbox delivery: SIGTERM/SIGINT finish the message in hand and put the rest back; claims are
taken in small batches; a command that enqueued mail leaves no claim behind when its interpreter exits."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from sqlalchemy import func, select

from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import deliver_all_due, deliver_pending
from tests.mail.processes import end, enqueue_many, output, received, rows, start_flask, statuses
from tests.waiting import wait_for

MESSAGES = 40


@pytest.fixture
def app_config(smtp_port):
    return {"MAIL_URL": f"smtp://127.0.0.1:{smtp_port}"}


def _sent_ids(app) -> set[str]:
    return {m.message_id for m in rows(app) if m.status is OutboxStatus.sent}


@pytest.mark.parametrize(("command", "signum"), [
    (("outbox", "deliver", "--watch", "--interval", "0.2"), signal.SIGTERM),
    (("outbox", "deliver", "--watch", "--interval", "0.2"), signal.SIGINT),
    (("worker", "--poll", "0.2"), signal.SIGTERM),
], ids=["outbox-SIGTERM", "outbox-SIGINT", "worker-SIGTERM"])
def test_stop_signal_finishes_the_message_in_hand_and_releases_the_other_claims(app, smtp, command, signum):
    smtp.recorder.delay = 0.2  # 8 s for them all: the signal comes long before
    smtp.start()
    expected = enqueue_many(app, MESSAGES)
    process = start_flask(app, *command, MAIL_URL=smtp.url)
    try:
        wait_for(lambda: len(smtp.recorder.messages) >= 3, "a few messages sent", deadline=60)
        before = len(smtp.recorder.messages)
        process.send_signal(signum)
        process.wait(timeout=15)
    finally:
        end(process)
    assert process.returncode == 0, output(process)
    got = received(smtp)
    assert sum(got.values()) <= before + 1  # the message in hand, at most: not the rest of the batch
    left = statuses(app)
    assert OutboxStatus.sending not in left, output(process)
    assert set(got) == _sent_ids(app) and max(got.values()) == 1  # everything received is recorded as sent
    waiting = [m for m in rows(app) if m.status is OutboxStatus.pending]
    assert len(waiting) == MESSAGES - len(got) > 0
    assert all(m.attempts == 0 and m.next_attempt_at <= utcnow() for m in waiting)  # due, no attempt counted

    smtp.recorder.delay = 0
    with app.app_context():
        deliver_all_due()
    got = received(smtp)
    assert set(got) == expected and max(got.values()) == 1


def test_claims_are_taken_in_batches_of_mail_claim_batch(app, smtp):
    app.config["MAIL_CLAIM_BATCH"] = 4
    smtp.recorder.delay = 0.03
    smtp.start()
    expected = enqueue_many(app, 14)
    claimed_at_once: list[int] = []
    done = threading.Event()

    def watch() -> None:
        with app.app_context():
            while not done.is_set():
                claimed_at_once.append(db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                                         .where(OutboxMessage.status == OutboxStatus.sending)))
                db.session.rollback()
                time.sleep(0.005)
            db.session.remove()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with app.app_context():
            counts = deliver_pending()
    finally:
        done.set()
        watcher.join()
    assert counts["claimed"] == counts["sent"] == 14
    assert 0 < max(claimed_at_once) <= 4
    assert set(received(smtp)) == expected


def _import_file(tmp_path, count: int):
    lines = ["first_name,last_name,email,organisation,job_title,category"]
    lines += [f"Prénom{n},Nom{n},imported{n}@example.org,Inserm,," for n in range(count)]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_command_that_enqueued_mail_leaves_no_claim_behind_at_exit(app, seeded, smtp, tmp_path):
    """`flask registrations import` with mail delivered after each commit (the background thread): at the
    interpreter's exit the thread sends the message in hand and puts back the rest of its batch."""
    rows_in_file = 25
    smtp.recorder.delay = 0.3  # the thread is still sending when the import is done
    smtp.start()
    process = start_flask(app, "registrations", "import", SLUG, str(_import_file(tmp_path, rows_in_file)),
                          MAIL_URL=smtp.url, MAIL_DELIVER_AFTER_COMMIT="true", MAIL_AFTER_COMMIT_DELAY=0)
    try:
        process.wait(timeout=60)
    finally:
        end(process)
    assert process.returncode == 0, output(process)
    assert f"created: {rows_in_file}" in output(process)
    got = received(smtp)
    # Still sending when the command ended (on a loaded machine the thread may not have sent its first one yet).
    assert len(got) < rows_in_file
    assert OutboxStatus.sending not in statuses(app)
    assert set(got) == _sent_ids(app) and all(times == 1 for times in got.values())
    assert all(m.attempts == 0 for m in rows(app) if m.status is OutboxStatus.pending)

    smtp.recorder.delay = 0
    with app.app_context():
        deliver_all_due()
    got = received(smtp)
    assert len(got) == rows_in_file and max(got.values()) == 1
    assert statuses(app) == {OutboxStatus.sent: rows_in_file}
