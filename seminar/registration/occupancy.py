"""How many places are taken and left, for an event and its sessions (two queries whatever the size)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from seminar.events.models import Event, Session
from seminar.extensions import db
from seminar.registration.models import Registration, RegistrationStatus, SessionSeat


@dataclass(frozen=True)
class Occupancy:
    capacity: int | None
    confirmed: int = 0
    waitlisted: int = 0

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.confirmed >= self.capacity


@dataclass(frozen=True)
class EventOccupancy:
    event: Occupancy
    sessions: dict[int, Occupancy]

    def session(self, session: Session) -> Occupancy:
        return self.sessions.get(session.id, Occupancy(session.capacity))


def _counts(rows) -> dict:
    counts: dict = {}
    for key, status, n in rows:
        counts.setdefault(key, {})[status] = n
    return counts


def event_occupancy(event: Event) -> EventOccupancy:
    """Confirmed and waitlisted counts for the event and every session."""
    reg_rows = db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id == event.id)
        .group_by(Registration.event_id, Registration.status)
    ).all()
    seat_rows = db.session.execute(
        select(SessionSeat.session_id, SessionSeat.status, func.count())
        .join(Session, Session.id == SessionSeat.session_id)
        .where(Session.event_id == event.id)
        .group_by(SessionSeat.session_id, SessionSeat.status)
    ).all()
    ev = _counts(reg_rows).get(event.id, {})
    seats = _counts(seat_rows)
    confirmed, waitlisted = RegistrationStatus.confirmed, RegistrationStatus.waitlisted
    return EventOccupancy(
        event=Occupancy(event.capacity, ev.get(confirmed, 0), ev.get(waitlisted, 0)),
        sessions={
            s.id: Occupancy(s.capacity, seats.get(s.id, {}).get(confirmed, 0), seats.get(s.id, {}).get(waitlisted, 0))
            for s in event.sessions
        },
    )
