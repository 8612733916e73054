"""The seat ledger: the one module that decides and writes who holds a place, in an event and in its round tables.

The rule. Only a confirmed registration holds round-table seats, confirmed or waitlisted. The round tables chosen
by someone waiting for the event are wishes (`SeatStatus.wish`) that count against nothing; when that person is
confirmed, their wishes are decided in the same transaction: confirmed where the round table has room, otherwise
waitlisted for it. Waiting lists are served oldest first: registrations by (created_at, id), seats by (created_at,
id), a seat chosen at registration carrying the registration's time. No place is left free while someone waits
for it. `has_room` / `seats_left` below are the rule as SQL, used by the registration's fast path and by every
other change alike.

Counters. `confirmed_count` and `waitlisted_count` on Event (registrations) and Session (seats; wishes count in
neither) change here only, in the transaction of the change, so that deciding and showing places read one row.
They are written with UPDATEs of their own that leave `updated_at` alone (calendar feeds use it).

Locks. Every change locks the Event row, then its Session rows in id order (`lock_event`), and only then reads
what it decides on (pretix's rule: lock once, then re-check). Registering locks the event last, after writing
its rows (`decision_statements`); it changes nothing that another holder of the lock could have read.

Functions here run inside the caller's `write_transaction()`, after `lock_event` or `lock_registration`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, case, exists, func, literal, not_, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from seminar.events.models import Event, Session
from seminar.extensions import db, utcnow
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat

CONFIRMED, WAITLISTED, CANCELLED = RegistrationStatus.confirmed, RegistrationStatus.waitlisted, \
    RegistrationStatus.cancelled


class NotFound(LookupError):
    """The event or registration to lock does not exist."""


# --- the rule, as SQL ------------------------------------------------------------------------------------

def seats_left(place=Event):
    """Places left in `place` (Event, Session, or an alias of either): capacity − confirmed, never below 0;
    NULL when it has no capacity."""
    return case((place.capacity.is_(None), None),
                (place.confirmed_count >= place.capacity, 0),
                else_=place.capacity - place.confirmed_count)


def has_room(place=Event):
    """Whether `place` can confirm one more (no capacity, or places left)."""
    return or_(place.capacity.is_(None), place.confirmed_count < place.capacity)


def _free(model, place_id: int) -> int | None:
    """`seats_left` of one locked Event or Session (None: no limit)."""
    return db.session.scalar(select(seats_left(model)).where(model.id == place_id))


def _room(model, place_id: int) -> bool:
    return bool(db.session.scalar(select(has_room(model)).where(model.id == place_id)))


# --- locks -----------------------------------------------------------------------------------------------

def lock_event(event_id: int) -> tuple[Event, dict[int, Session]]:
    """Lock the event, then its sessions in id order; both read afresh (inside `write_transaction()`)."""
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if event is None:
        raise NotFound()
    sessions = db.session.scalars(
        select(Session).where(Session.event_id == event_id).order_by(Session.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True))
    return event, {s.id: s for s in sessions}


def lock_registration(registration_id: int) -> tuple[Registration, Event, dict[int, Session]]:
    """`lock_event` for the registration's event, then the registration and its seats, read afresh."""
    event_id = db.session.scalar(select(Registration.event_id).where(Registration.id == registration_id))
    if event_id is None:
        raise NotFound()
    event, sessions = lock_event(event_id)
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id)
        .options(selectinload(Registration.seats)).execution_options(populate_existing=True))
    return registration, event, sessions


# --- the writes: every status change goes through these two ------------------------------------------------

def _count(model, place_id: int, old, new) -> None:
    """Move one from `old`'s counter to `new`'s (statuses named confirmed or waitlisted count)."""
    changes = {}
    for status, delta in ((old, -1), (new, 1)):
        if status is not None and status.name in ("confirmed", "waitlisted"):
            column = f"{status.name}_count"
            changes[column] = changes.get(column, getattr(model, column)) + delta
    if changes:
        db.session.execute(update(model).where(model.id == place_id)
                           .values(**changes, updated_at=model.updated_at)
                           .execution_options(synchronize_session="evaluate"))


def set_status(registration: Registration, status: RegistrationStatus) -> None:
    """The registration's place in the event, with the event's counters (its seats are not touched)."""
    if registration.status is not status:
        _count(Event, registration.event_id, registration.status, status)
        registration.status = status


def set_seat(seat: SessionSeat, status: SeatStatus) -> None:
    """A seat's status, with its round table's counters."""
    if seat.status is not status:
        _count(Session, seat.session_id, seat.status, status)
        seat.status = status


# --- changes -------------------------------------------------------------------------------------------------

def wish(registration: Registration, session_ids: Iterable[int], *, since: datetime | None = None) -> None:
    """Add the round tables to the registration's wishes (a seat given up before joins the back of the queue
    again: `since`, default now). Decided by `decide_wishes` once the registration is confirmed."""
    since = since or utcnow()
    existing = {seat.session_id: seat for seat in registration.seats}
    for session_id in session_ids:
        seat = existing.get(session_id)
        if seat is None:
            registration.seats.append(SessionSeat(session_id=session_id, status=SeatStatus.wish, created_at=since))
        elif seat.status is SeatStatus.cancelled:
            seat.status, seat.created_at = SeatStatus.wish, since
    db.session.flush()


def decide_wishes(registration: Registration, *, overbook: bool = False) -> list[int]:
    """A confirmed registration's wishes become seats: confirmed where the round table has room (or `overbook`,
    recorded), else waitlisted (their place in that queue is the time they were made). Returns the round
    tables confirmed."""
    if registration.status is not CONFIRMED:
        return []
    confirmed = []
    for seat in sorted(registration.seats, key=lambda s: s.session_id):
        if seat.status is not SeatStatus.wish:
            continue
        room = _room(Session, seat.session_id)
        if room or overbook:
            set_seat(seat, SeatStatus.confirmed)
            registration.overbooked = registration.overbooked or not room
            confirmed.append(seat.session_id)
        else:
            set_seat(seat, SeatStatus.waitlisted)
    return confirmed


def admit(registration: Registration, *, overbook: bool = False) -> list[int]:
    """Place a registration that holds no place (cancelled, taken up again): confirmed if the event has room
    (or `overbook`, recorded), else waitlisted; then its wishes are decided. Returns the round tables
    confirmed."""
    room = _room(Event, registration.event_id)
    set_status(registration, CONFIRMED if room or overbook else WAITLISTED)
    registration.overbooked = overbook and not room
    return decide_wishes(registration, overbook=overbook)


def release(seat: SessionSeat) -> bool:
    """Give up a seat or a wish; whether it freed a confirmed place."""
    freed = seat.status is SeatStatus.confirmed
    set_seat(seat, SeatStatus.cancelled)
    return freed


def cancel(registration: Registration) -> list[int]:
    """Cancel the registration and every seat; returns the round tables where a confirmed place came free.
    (The time is set first: the seats released with the registration are those changed since, which is what a
    restore takes back.)"""
    registration.cancelled_at = utcnow()
    freed = [seat.session_id for seat in registration.seats if release(seat)]
    set_status(registration, CANCELLED)
    return freed


@dataclass
class Promotion:
    """What one person was promoted to in one change: the registration itself (off the event's waiting list)
    and the round tables whose seats were confirmed."""
    registration: Registration
    event: bool = False
    sessions: list[int] = field(default_factory=list)


def promote(registration: Registration, promotions: dict[int, Promotion], seat: SessionSeat | None = None,
            *, beyond_capacity: bool = False) -> None:
    """Confirm a waitlisted registration (then decide its wishes) or, with `seat`, one waitlisted seat; note
    it in `promotions` for the e-mail. `beyond_capacity`: an organiser's choice, recorded as overbooked when
    there was no room."""
    promotion = promotions.setdefault(registration.id, Promotion(registration))
    if seat is None:
        if beyond_capacity and not _room(Event, registration.event_id):
            registration.overbooked = True
        set_status(registration, CONFIRMED)
        promotion.event = True
        promotion.sessions += decide_wishes(registration)
    else:
        if beyond_capacity and not _room(Session, seat.session_id):
            registration.overbooked = True
        set_seat(seat, SeatStatus.confirmed)
        promotion.sessions.append(seat.session_id)
    registration.promoted_at = utcnow()


def fill(event: Event, session_ids: Iterable[int], *, event_level: bool) -> dict[int, Promotion]:
    """Move the oldest waiting registrations (with `event_level`) into the event's free places, their wishes into
    the queues of their round tables (each at the time it was made), then serve the queues of those round
    tables and of `session_ids` in order. Returns who was promoted to what."""
    promotions: dict[int, Promotion] = {}
    to_serve = set(session_ids)
    if event_level:
        waiting = (select(Registration)
                   .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
                   .order_by(Registration.created_at, Registration.id)
                   .options(selectinload(Registration.seats)))
        for registration in db.session.scalars(waiting.limit(_free(Event, event.id))).all():
            promotions[registration.id] = Promotion(registration, event=True)
            set_status(registration, CONFIRMED)
            registration.promoted_at = utcnow()
            for seat in registration.seats:
                if seat.status is SeatStatus.wish:
                    set_seat(seat, SeatStatus.waitlisted)
                    to_serve.add(seat.session_id)
    for session_id in sorted(to_serve):
        waiting = (select(SessionSeat)
                   .where(SessionSeat.session_id == session_id, SessionSeat.status == SeatStatus.waitlisted)
                   .order_by(SessionSeat.created_at, SessionSeat.id))
        for seat in db.session.scalars(waiting.limit(_free(Session, session_id))).all():
            promote(seat.registration, promotions, seat)
    return promotions


# --- positions ---------------------------------------------------------------------------------------------

def waiting_position(registration: Registration) -> int | None:
    """1 for the next to be promoted to the event; None when not waiting."""
    if registration.status is not WAITLISTED:
        return None
    ahead = select(func.count()).where(
        Registration.event_id == registration.event_id, Registration.status == WAITLISTED,
        or_(Registration.created_at < registration.created_at,
            and_(Registration.created_at == registration.created_at, Registration.id < registration.id)))
    return db.session.scalar(ahead) + 1


def seat_positions(registration: Registration) -> dict[int, int]:
    """For each round table where the registration waits: its place in that queue (1 = next)."""
    mine = aliased(SessionSeat)
    ahead = (select(mine.session_id, func.count(SessionSeat.id))
             .outerjoin(SessionSeat, and_(
                 SessionSeat.session_id == mine.session_id, SessionSeat.status == SeatStatus.waitlisted,
                 or_(SessionSeat.created_at < mine.created_at,
                     and_(SessionSeat.created_at == mine.created_at, SessionSeat.id < mine.id))))
             .where(mine.registration_id == registration.id, mine.status == SeatStatus.waitlisted)
             .group_by(mine.session_id))
    return {session_id: n + 1 for session_id, n in db.session.execute(ahead)}


# --- after the fact -------------------------------------------------------------------------------------------

def recount(event_id: int) -> None:
    """Set the event's and its sessions' counters from the rows (after a bulk load such as `import-event`)."""
    def counted(model, status):
        return select(func.count()).where(model.status == status)

    db.session.execute(update(Event).where(Event.id == event_id).values(
        confirmed_count=counted(Registration, CONFIRMED).where(Registration.event_id == Event.id).scalar_subquery(),
        waitlisted_count=counted(Registration, WAITLISTED).where(Registration.event_id == Event.id)
        .scalar_subquery(),
        updated_at=Event.updated_at).execution_options(synchronize_session=False))
    db.session.execute(update(Session).where(Session.event_id == event_id).values(
        confirmed_count=counted(SessionSeat, SeatStatus.confirmed).where(SessionSeat.session_id == Session.id)
        .scalar_subquery(),
        waitlisted_count=counted(SessionSeat, SeatStatus.waitlisted).where(SessionSeat.session_id == Session.id)
        .scalar_subquery(),
        updated_at=Session.updated_at).execution_options(synchronize_session=False))


# --- the registration's fast path ------------------------------------------------------------------------------

@cache
def decision_statements(overbook: bool, with_seats: bool) -> tuple:
    """What decides a registration written as waiting with its round tables as wishes, none of it counted yet:
    lock the event; confirm the registration if the event has room (or `overbook`); count it; decide its wishes
    if it was confirmed; count them. Bound parameters the_event, the_registration, now. The registration's
    UPDATE (the second statement) returns its status. Built once (building and compiling them cost more than
    running them); sent in one pipeline by `seminar.database.execute_committing`."""
    event_id, registration_id, now = bindparam("the_event"), bindparam("the_registration"), bindparam("now")
    this_event = select(has_room(Event)).where(Event.id == event_id).scalar_subquery()
    seat_room = select(has_room(Session)).where(Session.id == SessionSeat.session_id).scalar_subquery()
    mine = aliased(SessionSeat)
    wishes = (mine.registration_id == registration_id, mine.status == SeatStatus.wish)

    def decided(room, yes, no):
        return literal(yes.name) if overbook else case((room, yes.name), else_=no.name)

    overbooked = Registration.overbooked
    if overbook:  # organisers only: note a confirmation beyond the event's or a round table's capacity
        beyond = not_(this_event)
        if with_seats:
            room = select(has_room(Session)).where(Session.id == mine.session_id).scalar_subquery()
            beyond = or_(beyond, exists().where(*wishes, not_(room)))
        overbooked = or_(overbooked, beyond)

    def counted(model, status, *where):
        return select(func.count()).select_from(model).where(model.status == status, *where).scalar_subquery()

    this_registration = Registration.id == registration_id
    statements = [
        select(Event.id).where(Event.id == event_id).with_for_update(key_share=True),
        update(Registration).where(this_registration)
        .values(status=decided(this_event, CONFIRMED, WAITLISTED), updated_at=now, overbooked=overbooked)
        .returning(Registration.status),
        update(Event).where(Event.id == event_id).values(
            confirmed_count=Event.confirmed_count + counted(Registration, CONFIRMED, this_registration),
            waitlisted_count=Event.waitlisted_count + counted(Registration, WAITLISTED, this_registration),
            updated_at=Event.updated_at),
    ]
    if with_seats:
        confirmed = select(Registration.status).where(this_registration).scalar_subquery() == CONFIRMED
        seats_of = (SessionSeat.registration_id == registration_id, SessionSeat.session_id == Session.id)
        statements += [
            update(SessionSeat).where(SessionSeat.registration_id == registration_id,
                                      SessionSeat.status == SeatStatus.wish, confirmed)
            .values(status=decided(seat_room, SeatStatus.confirmed, SeatStatus.waitlisted), updated_at=now),
            update(Session).where(Session.id.in_(select(mine.session_id).where(*wishes[:1]))).values(
                confirmed_count=Session.confirmed_count + counted(SessionSeat, SeatStatus.confirmed, *seats_of),
                waitlisted_count=Session.waitlisted_count + counted(SessionSeat, SeatStatus.waitlisted, *seats_of),
                updated_at=Session.updated_at),
        ]
    return tuple(statements)
