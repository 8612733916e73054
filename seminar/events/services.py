"""Reading the programme: an event with everything its public pages show, in a bounded number of queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from seminar.events.models import Event, Session, SessionSpeaker, Speaker, Venue
from seminar.extensions import db, utcnow


def get_event(slug: str) -> Event | None:
    """The event with its venue, rooms, sessions, speakers and lists preloaded."""
    return db.session.scalar(
        select(Event)
        .where(Event.slug == slug)
        .options(
            selectinload(Event.venue).selectinload(Venue.rooms),
            selectinload(Event.sessions).selectinload(Session.room),
            selectinload(Event.sessions)
            .selectinload(Session.speaker_links)
            .selectinload(SessionSpeaker.speaker),
            selectinload(Event.speakers)
            .selectinload(Speaker.session_links)
            .selectinload(SessionSpeaker.session),
            selectinload(Event.categories),
            selectinload(Event.organisations),
            selectinload(Event.press_contacts),
        )
    )


def list_events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.starts_at.desc())))


def featured_event() -> Event | None:
    """The featured event that has not ended yet, else the next upcoming one."""
    now = utcnow()
    upcoming = select(Event).where(Event.ends_at >= now).order_by(Event.featured.desc(), Event.starts_at)
    return db.session.scalars(upcoming).first()
