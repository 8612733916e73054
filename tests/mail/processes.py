"""Outbox test helpers: real `flask` processes on the test app's database, what the outbox holds, what a
recording SMTP server received."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from seminar.extensions import db
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import enqueue


def start_flask(app, *args: str, **settings) -> subprocess.Popen:
    """`flask --app seminar ARGS` in a process of its own, on the test app's database and instance, with
    `settings` as SEMINAR_* environment variables (JSON values). Output goes to a file (`output(process)`)."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("SEMINAR_", "FLASK_"))},
        "SEMINAR_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SEMINAR_SECRET_KEY": app.config["SECRET_KEY"],
        "SEMINAR_INSTANCE_PATH": app.instance_path,
        "SEMINAR_BASE_URL": app.config["BASE_URL"],
        "SEMINAR_MAIL_DELIVER_AFTER_COMMIT": "false",
        "SEMINAR_HOUSEKEEPING_INTERVAL": "3600",
        **{f"SEMINAR_{name}": str(value) for name, value in settings.items()},
    }
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(prefix="flask-", suffix=".log", dir=app.instance_path, delete=False) as log:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "seminar", *args], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.output_path = Path(log.name)
    return process


def output(process: subprocess.Popen) -> str:
    return process.output_path.read_text(encoding="utf-8", errors="replace")


def end(process: subprocess.Popen) -> None:
    """Kill a process a test left running (its whole group)."""
    if process.poll() is None:
        os.killpg(process.pid, 9)
        process.wait(timeout=30)


def enqueue_many(app, count: int) -> set[str]:
    """`count` plain messages, committed; their Message-IDs."""
    with app.app_context():
        messages = [enqueue(f"person{n}@example.org", f"Message {n}", "Hello") for n in range(count)]
        db.session.commit()
        ids = {message.message_id for message in messages}
        db.session.remove()
    return ids


def statuses(app) -> dict[OutboxStatus, int]:
    with app.app_context():
        counts = dict(db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        db.session.remove()
    return counts


def rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        db.session.remove()
    return found


def received(smtp) -> Counter:
    """Message-ID → how many times the SMTP server received it."""
    return Counter(email.message_from_bytes(raw)["Message-ID"] for raw in list(smtp.recorder.messages))
