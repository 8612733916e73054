"""Calendar fixtures: a real local SMTP server (aiosmtpd), registrants, and organiser edits as the
back-office makes them (raise Session.sequence, then call seminar.ical.notifications)."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from datetime import timedelta
from email.message import Message

import icalendar
import pytest
import vobject
from aiosmtpd.controller import Controller

from seminar.events.models import Event, Session
from seminar.extensions import db, utcnow
from seminar.ical import notifications
from seminar.mail.outbox import deliver_pending
from seminar.registration import services
from seminar.registration.services import RegistrationDetails

SLUG = "20-ans-canceropoles"


class Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self):
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self._lock:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message.raw = envelope.content  # as received, byte for byte
            self.messages.append(message)
        return "250 OK"

    def take(self) -> list[Message]:
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield inbox
    finally:
        controller.stop()


def deliver(app) -> dict:
    """Deliver everything queued, including updates held back for coalescing."""
    with app.app_context():
        return deliver_pending(now=utcnow() + timedelta(days=1))


def register(app, email_addr: str, round_tables: list[int], **names) -> tuple[int, str]:
    """Register someone as the public form does; returns (registration id, self-service token)."""
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        details = RegistrationDetails(first_name=names.get("first_name", "Camille"),
                                      last_name=names.get("last_name", "Durand"), email=email_addr)
        outcome = services.register(event.id, details, round_tables)
        return outcome.registration_id, outcome.token


def round_table_ids(app) -> list[int]:
    with app.app_context():
        event = db.session.scalar(db.select(Event).where(Event.slug == SLUG))
        return [s.id for s in event.sessions if s.takes_registrations]


def edit_session(app, session_id: int, **changes) -> None:
    """An organiser's edit of time, room or title, as the back-office performs it."""
    with app.app_context():
        session = db.session.get(Session, session_id)
        for name, value in changes.items():
            setattr(session, name, value)
        session.sequence += 1
        notifications.session_changed(session)
        db.session.commit()


def delete_session(app, session_id: int) -> None:
    with app.app_context():
        session = db.session.get(Session, session_id)
        session.sequence += 1
        notifications.session_deleted(session)
        db.session.delete(session)
        db.session.commit()


def calendar_part(message: Message) -> icalendar.Calendar | None:
    """The parsed calendar of a message's text/calendar part, if it has one."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return icalendar.Calendar.from_ical(part.get_payload(decode=True))
    return None


def parse_both(body: bytes) -> tuple[icalendar.Calendar, object]:
    """The same bytes through two independent parsers."""
    return icalendar.Calendar.from_ical(body), vobject.readOne(body.decode("utf-8"))
