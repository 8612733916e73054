"""A small event with round tables, made through the programme services, and its capacities changed the way the
back office changes them (the whole form sent again with one field different)."""

from __future__ import annotations

import itertools
from dataclasses import fields
from datetime import datetime
from zoneinfo import ZoneInfo

from seminar.events.models import Event, Session, SessionKind
from seminar.events.programme import (
    EventDetails,
    SessionDetails,
    create_event,
    create_session,
    update_event,
    update_session,
)
from seminar.extensions import db

PARIS = ZoneInfo("Europe/Paris")
_slugs = itertools.count()


def create_event_with_round_tables(capacity: int | None, table_capacities: list[int | None]) -> tuple[int, list[int]]:
    """A one-day event (a fresh slug each time) with a plenary and one round table per capacity given;
    returns the event's id and the round tables' ids."""
    event = create_event(EventDetails(
        slug=f"ledger-{next(_slugs)}", title="Ledger", capacity=capacity,
        starts_at=datetime(2031, 6, 12, 9, tzinfo=PARIS), ends_at=datetime(2031, 6, 12, 18, tzinfo=PARIS)))
    event_id = event.id
    create_session(event_id, SessionDetails(kind=SessionKind.plenary, title="Opening",
                                            starts_at=datetime(2031, 6, 12, 9, tzinfo=PARIS),
                                            ends_at=datetime(2031, 6, 12, 10, tzinfo=PARIS)))
    table_ids = []
    for n, table_capacity in enumerate(table_capacities):
        table = create_session(event_id, SessionDetails(
            kind=SessionKind.round_table, title=f"Round table {n + 1}", capacity=table_capacity, position=n,
            starts_at=datetime(2031, 6, 12, 10 + n, tzinfo=PARIS),
            ends_at=datetime(2031, 6, 12, 10 + n, 45, tzinfo=PARIS)))
        table_ids.append(table.id)
    db.session.remove()
    return event_id, table_ids


def set_event_capacity(event_id: int, capacity: int | None) -> None:
    """`update_event` with the event's current details but its capacity (ProgrammeError when refused)."""
    event = db.session.get(Event, event_id)
    details = EventDetails(**{f.name: getattr(event, f.name) for f in fields(EventDetails)})
    details.capacity = capacity
    db.session.remove()  # read in a transaction of our own, as a form's GET is
    update_event(event_id, details)


def set_session_capacity(session_id: int, capacity: int | None) -> None:
    """`update_session` with the session's current details but its capacity (ProgrammeError when refused)."""
    session = db.session.get(Session, session_id)
    details = SessionDetails(**{f.name: getattr(session, f.name) for f in fields(SessionDetails)})
    details.capacity = capacity
    db.session.remove()
    update_session(session_id, details)
