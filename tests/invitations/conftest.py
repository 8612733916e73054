"""Helpers for the guest list tests: a guest list on the seeded event, the outbox, a personal link."""

from __future__ import annotations

import re

from sqlalchemy import select

from seminar.events.models import Event
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.invitations.models import Invitation
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import compose_pending

LINK = re.compile(r"http://seminar\.test/invitations/([A-Za-z0-9_-]+)")

GUESTS = (
    "first_name,last_name,email,organisation,category,language\n"
    "Camille,Durand,camille@example.org,Cancéropôle Est,,fr\n"
    "Alex,Smith,alex@example.org,Inserm,,en\n"
)


def import_guests(app, data: bytes = GUESTS.encode()):
    from seminar.invitations.services import import_guest_list

    with app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.slug == SLUG))
        return import_guest_list(event_id, data)


def event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Event.id).where(Event.slug == SLUG))


def invitation(app, email: str) -> Invitation:
    with app.app_context():
        found = db.session.scalar(select(Invitation).where(Invitation.email == email))
        db.session.expunge_all()
    return found


def mails(app) -> list[OutboxMessage]:
    with app.app_context():
        while compose_pending():
            pass
        messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
    return messages


def token_in(message: OutboxMessage) -> str:
    match = LINK.search(message.text_body)
    assert match, message.text_body
    assert match.group(0) in message.html_body
    return match.group(1)
