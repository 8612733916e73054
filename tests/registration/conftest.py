"""Helpers for registration tests: a form post, a service call, the outbox, a capacity change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from seminar.events.models import Event, Session
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import compose_pending
from seminar.registration.services import RegistrationDetails

REGISTER_URL = f"/events/{SLUG}/register"
LINK = re.compile(r"http://seminar\.test(/registrations/[A-Za-z0-9_-]+)")


def round_table_ids(event) -> list[int]:
    return [s.id for s in event.sessions if s.takes_registrations]


def form_data(event, **overrides) -> dict:
    data = {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "organisation": "Cancéropôle Est",
        "job_title": "Chercheuse",
        "category": str(event.categories[0].id),
        "sessions": [str(round_table_ids(event)[0])],
        "dietary": "",
        "accessibility": "",
        "consent_privacy": "y",
    }
    data.update(overrides)
    return data


def details(n: int = 0, **overrides) -> RegistrationDetails:
    values = {"first_name": f"Person{n}", "last_name": "Test", "email": f"person{n}@example.org"}
    values.update(overrides)
    return RegistrationDetails(**values)


def set_capacity(app, *, event: int | None | str = "keep", sessions: dict[int, int | None] | None = None) -> None:
    with app.app_context():
        ev = db.session.scalar(select(Event).where(Event.slug == SLUG))
        if event != "keep":
            ev.capacity = event
        for session_id, capacity in (sessions or {}).items():
            db.session.get(Session, session_id).capacity = capacity
        db.session.commit()


def outbox(app, *, with_calendar: bool = False) -> list[OutboxMessage]:
    """Messages in the outbox, written as the outbox worker writes them before sending; by default only the
    registrant e-mails, not the separate round-table invites that the calendar area adds (their coalesce keys
    start with "ical:")."""
    with app.app_context():
        while compose_pending():
            pass
        messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
    if with_calendar:
        return messages
    return [m for m in messages if not (m.coalesce_key or "").startswith("ical:")]


def link_in(message: OutboxMessage) -> str:
    match = LINK.search(message.text_body)
    assert match, message.text_body
    assert match.group(0) in message.html_body
    return match.group(1)


@pytest.fixture
def event_id(seeded) -> int:
    return seeded.id
