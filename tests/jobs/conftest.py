"""Job test helpers: many registrants at once (for a job long enough to interrupt), worker subprocesses."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

from seminar.events.models import Event
from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.registration.models import Registration, RegistrationStatus
from seminar.registration.tokens import hash_token


def add_many_registrants(app, count: int) -> None:
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        for number in range(count):
            email = f"person{number}-{secrets.token_hex(4)}@example.org"
            db.session.add(Registration(
                event_id=event.id, first_name=f"Prénom{number}", last_name=f"Nom{number}", organisation="Inserm",
                email=email, email_key=email, status=RegistrationStatus.confirmed,
                category_id=event.categories[number % len(event.categories)].id,
                token_hash=hash_token(secrets.token_urlsafe(32)), consent_privacy_at=utcnow(),
            ))
        db.session.commit()


def start_worker(app, *args: str) -> subprocess.Popen:
    """`flask --app seminar worker` in its own process group, on the test app's database and instance. Its
    output goes to a file (`worker_output(process)` reads it): a pipe read only at the end fills up and
    blocks a worker that logs much."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("SEMINAR_", "FLASK_"))},
        "SEMINAR_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SEMINAR_SECRET_KEY": app.config["SECRET_KEY"],
        "SEMINAR_INSTANCE_PATH": app.instance_path,
        "SEMINAR_JOB_STALE_AFTER": "2",
        "SEMINAR_JOB_HEARTBEAT_INTERVAL": "0.5",
        "SEMINAR_BADGE_RENDER_PROCESSES": "1",
        "SEMINAR_MAIL_URL": "null",
    }
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", dir=app.instance_path, delete=False) as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "seminar", "worker", "--poll", "0.2", *args],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    process.output_path = Path(log.name)
    return process


def worker_output(process: subprocess.Popen) -> str:
    return process.output_path.read_text(encoding="utf-8", errors="replace")
