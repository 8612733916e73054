"""How many places are taken and left, for an event and its sessions: the ledger's counters, read from two rows
per page (seminar.registration.ledger), never counted from the registrations."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from seminar.events.models import Event, Session
from seminar.extensions import db
from seminar.registration.ledger import has_room, seats_left


@dataclass(frozen=True)
class Occupancy:
    capacity: int | None
    confirmed: int = 0
    waitlisted: int = 0
    seats_left: int | None = None  # None: no limit
    has_room: bool = True

    @property
    def full(self) -> bool:
        return not self.has_room


@dataclass(frozen=True)
class EventOccupancy:
    event: Occupancy
    sessions: dict[int, Occupancy]

    def session(self, session: Session) -> Occupancy:
        return self.sessions.get(session.id, Occupancy(session.capacity, seats_left=session.capacity))


def _columns(place):
    return place.capacity, place.confirmed_count, place.waitlisted_count, seats_left(place), has_room(place)


def event_occupancy(event: Event) -> EventOccupancy:
    """Confirmed and waitlisted counts and places left, for the event and every session (two statements)."""
    row = db.session.execute(select(*_columns(Event)).where(Event.id == event.id)).one()
    sessions = db.session.execute(select(Session.id, *_columns(Session)).where(Session.event_id == event.id))
    return EventOccupancy(
        event=Occupancy(*row),
        sessions={session_id: Occupancy(*values) for session_id, *values in sessions},
    )
