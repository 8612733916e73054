"""Checking people in at the door: by badge code or by registration, for the event or one session.

Services take plain values (ids, codes, times) and own their transaction. A check-in is one conditional
UPDATE (`… WHERE checked_in_at IS NULL`) inside a write transaction: two desks scanning the same badge at
the same moment record one check-in, and the second desk is told it was already done. Waitlisted and
cancelled registrants are reported, never admitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from seminar.accounts.models import User
from seminar.audit.services import record
from seminar.badges.codes import verify_checkin_code
from seminar.database import write_transaction
from seminar.events.models import Category, Event, Session, SessionKind
from seminar.extensions import db, utcnow
from seminar.registration.models import (
    Registration,
    RegistrationStatus,
    SeatStatus,
    SessionAttendance,
    SessionSeat,
    status_label,
)
from seminar.registration.search import matching_words, search_words

UNDO_WINDOW = timedelta(seconds=60)
SEARCH_LIMIT = 20
SEARCH_MIN_LENGTH = 2

CHECKED_IN = "checked_in"
ALREADY_CHECKED_IN = "already_checked_in"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
INVALID = "invalid"
STATUSES = (CHECKED_IN, ALREADY_CHECKED_IN, WAITLISTED, CANCELLED, INVALID)


class CheckinError(Exception):
    """A request the desk cannot carry out (unknown session, undo refused); `message` is for the volunteer."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class RoundTableSeat:
    id: int
    title: str
    starts_at: datetime


@dataclass(frozen=True)
class Registrant:
    """What the desk shows about a person."""

    id: int
    name: str
    organisation: str
    category: str
    category_colour: str
    status: str
    round_tables: tuple[RoundTableSeat, ...] = ()


@dataclass(frozen=True)
class CheckinResult:
    status: str
    registrant: Registrant | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    # Per-session mode: the session, and whether the registrant held no confirmed seat there.
    session_id: int | None = None
    without_seat: bool = False


@dataclass(frozen=True)
class SearchHit:
    registrant: Registrant
    email: str
    checked_in_at: datetime | None


@dataclass
class Tally:
    expected: int = 0
    checked_in: int = 0


@dataclass
class LiveCounts:
    """Checked in / expected (confirmed) for the event, per category and per round table.

    For a round table, `checked_in` counts its seat holders who have arrived at the event and `attending`
    the attendance recorded at that table's door (per-session mode).
    """

    total: Tally
    categories: list[tuple[Category | None, Tally]] = field(default_factory=list)
    round_tables: list[tuple[Session, Tally, int]] = field(default_factory=list)


# --- checking in -------------------------------------------------------------------------------------------

def check_in_code(event_id: int, code: str, *, user_id: int | None, session_id: int | None = None,
                  locale: str = "fr") -> CheckinResult:
    """Check in the holder of a scanned badge code; a malformed, forged or other event's code is `invalid`."""
    registration_id = verify_checkin_code(code)
    if registration_id is None:
        return CheckinResult(INVALID, session_id=session_id)
    return check_in(event_id, registration_id, user_id=user_id, session_id=session_id, locale=locale)


def check_in(event_id: int, registration_id: int, *, user_id: int | None, session_id: int | None = None,
             locale: str = "fr") -> CheckinResult:
    """Check a registrant in at the event's entrance (or, with `session_id`, at that session's door).

    Idempotent: a second call reports `already_checked_in` with the first check-in's time and desk.
    Raises CheckinError for a session that is not the event's.
    """
    if session_id is not None:
        return _check_in_session(event_id, session_id, registration_id, user_id=user_id, locale=locale)
    # Most repeat scans and refusals need no write: answer them without taking the write lock.
    state = db.session.execute(
        select(Registration.status, Registration.checked_in_at)
        .where(Registration.id == registration_id, Registration.event_id == event_id)).first()
    if state is None or state.status is not RegistrationStatus.confirmed or state.checked_in_at is not None:
        return _answer(event_id, registration_id, recorded=False, locale=locale)
    with write_transaction():
        recorded = db.session.execute(
            update(Registration)
            .where(Registration.id == registration_id, Registration.event_id == event_id,
                   Registration.status == RegistrationStatus.confirmed, Registration.checked_in_at.is_(None),
                   Registration.anonymised_at.is_(None))
            .values(checked_in_at=utcnow(), checked_in_by_id=user_id)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if recorded:
            record("checkin.check_in", event_id=event_id, target_type="registration", target_id=registration_id,
                   user=_user(user_id))
    return _answer(event_id, registration_id, recorded=recorded, locale=locale)


def _answer(event_id: int, registration_id: int, *, recorded: bool, locale: str) -> CheckinResult:
    registration = _registration(event_id, registration_id)
    if registration is None:
        return CheckinResult(INVALID)
    registrant = _registrant(registration, locale)
    if registration.status is RegistrationStatus.cancelled:
        return CheckinResult(CANCELLED, registrant)
    if registration.status is RegistrationStatus.waitlisted:
        return CheckinResult(WAITLISTED, registrant)
    return CheckinResult(CHECKED_IN if recorded else ALREADY_CHECKED_IN, registrant, registration.checked_in_at,
                         _email(registration.checked_in_by_id))


def _check_in_session(event_id: int, session_id: int, registration_id: int, *, user_id: int | None,
                      locale: str) -> CheckinResult:
    session = db.session.get(Session, session_id)
    if session is None or session.event_id != event_id:
        raise CheckinError(_l("This session is not part of the event."))
    recorded = False
    try:
        with write_transaction():
            registration = db.session.scalar(
                select(Registration).where(Registration.id == registration_id, Registration.event_id == event_id,
                                           Registration.status == RegistrationStatus.confirmed,
                                           Registration.anonymised_at.is_(None)))
            if registration is not None and _attendance(session_id, registration_id) is None:
                has_seat = db.session.scalar(select(SessionSeat.id).where(
                    SessionSeat.registration_id == registration_id, SessionSeat.session_id == session_id,
                    SessionSeat.status == SeatStatus.confirmed)) is not None
                db.session.add(SessionAttendance(session_id=session_id, registration_id=registration_id,
                                                 checked_in_at=utcnow(), checked_in_by_id=user_id,
                                                 without_seat=not has_seat))
                record("checkin.session_check_in", event_id=event_id, target_type="registration",
                       target_id=registration_id, details={"session_id": session_id, "without_seat": not has_seat},
                       user=_user(user_id))
                db.session.flush()
                recorded = True
    except IntegrityError:  # another desk recorded the same attendance a moment earlier (PostgreSQL)
        recorded = False  # the block was rolled back
    registration = _registration(event_id, registration_id)
    if registration is None:
        return CheckinResult(INVALID, session_id=session_id)
    registrant = _registrant(registration, locale)
    if registration.status is not RegistrationStatus.confirmed:
        status = CANCELLED if registration.status is RegistrationStatus.cancelled else WAITLISTED
        return CheckinResult(status, registrant, session_id=session_id)
    attendance = _attendance(session_id, registration_id)
    return CheckinResult(CHECKED_IN if recorded else ALREADY_CHECKED_IN, registrant, attendance.checked_in_at,
                         _email(attendance.checked_in_by_id), session_id, attendance.without_seat)


def undo(event_id: int, registration_id: int, *, user_id: int | None, checked_in_at: datetime,
         session_id: int | None = None, now: datetime | None = None) -> None:
    """Take back a check-in made by the same account less than a minute ago.

    `checked_in_at` is the time the check-in answered with: only that very check-in is undone, not a later
    one. Raises CheckinError when the check-in is not found, was made by another account, or is too old.
    """
    now = now or utcnow()
    with write_transaction():
        if session_id is None:
            target = db.session.scalar(
                select(Registration).where(Registration.id == registration_id, Registration.event_id == event_id)
                .with_for_update().execution_options(populate_existing=True))
        else:
            target = db.session.scalar(
                select(SessionAttendance).join(Session, Session.id == SessionAttendance.session_id)
                .where(SessionAttendance.registration_id == registration_id,
                       SessionAttendance.session_id == session_id, Session.event_id == event_id)
                .with_for_update(of=SessionAttendance).execution_options(populate_existing=True))
        _check_undo(target, user_id, checked_in_at, now)
        if session_id is None:
            target.checked_in_at, target.checked_in_by_id = None, None
        else:
            db.session.delete(target)
        record("checkin.undo", event_id=event_id, target_type="registration", target_id=registration_id,
               details={"session_id": session_id, "checked_in_at": checked_in_at.isoformat()}, user=_user(user_id))


def _check_undo(target, user_id: int | None, checked_in_at: datetime, now: datetime) -> None:
    if target is None or target.checked_in_at is None or target.checked_in_at != checked_in_at:
        raise CheckinError(_l("There is no such check-in to undo."))
    if target.checked_in_by_id != user_id:
        raise CheckinError(_l("Only the desk that made a check-in can undo it."))
    if now - target.checked_in_at > UNDO_WINDOW:
        raise CheckinError(_l("A check-in can only be undone within a minute."))


# --- reading -----------------------------------------------------------------------------------------------

def search(event_id: int, query: str, *, locale: str = "fr", limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Registrants whose name, e-mail or organisation contain every word of `query`, accents and case ignored
    ("helene" finds "Hélène"): the rule of seminar.registration.search, as in the back-office."""
    words = matching_words(query)
    if words is None or len("".join(search_words(query))) < SEARCH_MIN_LENGTH:
        return []
    found = db.session.scalars(
        _registration_query().where(Registration.event_id == event_id, Registration.anonymised_at.is_(None), words)
        .order_by(Registration.last_name, Registration.first_name, Registration.id).limit(limit)
    ).all()
    return [SearchHit(_registrant(r, locale), r.email, r.checked_in_at) for r in found]


def live_counts(event: Event) -> LiveCounts:
    """Checked in / expected for the event, its categories and its round tables (four grouped queries)."""
    checked = Registration.checked_in_at.is_not(None)
    per_category: dict[int | None, Tally] = {}
    total = Tally()
    for category_id, status, is_checked, n in db.session.execute(
        select(Registration.category_id, Registration.status, checked, func.count())
        .where(Registration.event_id == event.id, Registration.status != RegistrationStatus.cancelled)
        .group_by(Registration.category_id, Registration.status, checked)
    ):
        tally = per_category.setdefault(category_id, Tally())
        for t in (tally, total):
            if status is RegistrationStatus.confirmed:
                t.expected += n
            if is_checked:
                t.checked_in += n
    seats: dict[int, Tally] = {}
    for session_id, is_checked, n in db.session.execute(
        select(SessionSeat.session_id, checked, func.count())
        .join(Registration, Registration.id == SessionSeat.registration_id)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.confirmed,
               SessionSeat.status == SeatStatus.confirmed)
        .group_by(SessionSeat.session_id, checked)
    ):
        tally = seats.setdefault(session_id, Tally())
        tally.expected += n
        tally.checked_in += n if is_checked else 0
    attending = dict(db.session.execute(
        select(SessionAttendance.session_id, func.count())
        .join(Session, Session.id == SessionAttendance.session_id)
        .where(Session.event_id == event.id).group_by(SessionAttendance.session_id)
    ).all())
    categories = db.session.scalars(select(Category).where(Category.event_id == event.id)
                                    .order_by(Category.position, Category.id)).all()
    by_category: list[tuple[Category | None, Tally]] = [(c, per_category.get(c.id, Tally())) for c in categories]
    if None in per_category:
        by_category.append((None, per_category[None]))
    round_tables = [(s, seats.get(s.id, Tally()), attending.get(s.id, 0)) for s in _round_tables(event)]
    return LiveCounts(total, by_category, round_tables)


def round_tables(event: Event) -> list[Session]:
    """The sessions a desk can switch to for per-session check-in."""
    return _round_tables(event)


def attendance_sheets(event: Event, locale: str = "fr") -> list[tuple[str, list[str], list[list]]]:
    """The attendance list (every registrant, with check-in time and desk) and, per round table, the
    attendance recorded at its door: (title, header, rows) for the back-office's spreadsheet writers."""
    from flask_babel import gettext as _

    desks = _desks()
    people = db.session.scalars(
        _registration_query().where(Registration.event_id == event.id, Registration.anonymised_at.is_(None))
        .order_by(Registration.last_name, Registration.first_name, Registration.id)).all()
    attended: dict[int, list[SessionAttendance]] = {}
    for attendance in db.session.scalars(
        select(SessionAttendance).join(Session, Session.id == SessionAttendance.session_id)
        .where(Session.event_id == event.id).order_by(SessionAttendance.checked_in_at)
    ):
        attended.setdefault(attendance.session_id, []).append(attendance)
    header = [_("Id"), _("Last name"), _("First name"), _("E-mail"), _("Organisation"), _("Category"),
              _("Status"), _("Checked in at"), _("Checked in by"), _("Round tables")]
    rows = [[r.id, r.last_name, r.first_name, r.email, r.organisation,
             r.category.label_for(locale) if r.category else "", status_label(r.status),
             event.local(r.checked_in_at) if r.checked_in_at else None, desks.get(r.checked_in_by_id, ""),
             " | ".join(seat.session.title for seat in _confirmed_round_tables(r))]
            for r in people]
    sheets = [(_("Attendance"), header, rows)]
    by_id = {r.id: r for r in people}
    table_header = [_("Id"), _("Last name"), _("First name"), _("Organisation"), _("Seat booked"),
                    _("Checked in at"), _("Checked in by")]
    for session in _round_tables(event):
        table_rows = [[a.registration_id, by_id[a.registration_id].last_name, by_id[a.registration_id].first_name,
                       by_id[a.registration_id].organisation, not a.without_seat, event.local(a.checked_in_at),
                       desks.get(a.checked_in_by_id, "")]
                      for a in attended.get(session.id, []) if a.registration_id in by_id]
        sheets.append((session.title, table_header, table_rows))
    return sheets


# --- helpers -----------------------------------------------------------------------------------------------

def _registration_query():
    return select(Registration).options(
        selectinload(Registration.category), selectinload(Registration.seats).selectinload(SessionSeat.session))


def _registration(event_id: int, registration_id: int) -> Registration | None:
    return db.session.scalar(
        _registration_query().where(Registration.id == registration_id, Registration.event_id == event_id,
                                    Registration.anonymised_at.is_(None))
        .execution_options(populate_existing=True))


def _attendance(session_id: int, registration_id: int) -> SessionAttendance | None:
    return db.session.scalar(
        select(SessionAttendance).where(SessionAttendance.session_id == session_id,
                                        SessionAttendance.registration_id == registration_id)
        .execution_options(populate_existing=True))


def _confirmed_round_tables(registration: Registration) -> list[SessionSeat]:
    seats = [s for s in registration.seats
             if s.status is SeatStatus.confirmed and s.session.kind is SessionKind.round_table]
    return sorted(seats, key=lambda s: (s.session.starts_at, s.session.position, s.session_id))


def _registrant(registration: Registration, locale: str) -> Registrant:
    category = registration.category
    return Registrant(
        id=registration.id,
        name=registration.full_name,
        organisation=registration.organisation or "",
        category=category.label_for(locale) if category else "",
        category_colour=category.colour if category else "",
        status=registration.status.value,
        round_tables=tuple(RoundTableSeat(s.session_id, s.session.title, s.session.starts_at)
                           for s in _confirmed_round_tables(registration)),
    )


def _round_tables(event: Event) -> list[Session]:
    sessions = db.session.scalars(select(Session).where(Session.event_id == event.id,
                                                        Session.kind == SessionKind.round_table)
                                  .order_by(Session.starts_at, Session.position, Session.id))
    return list(sessions)


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def _email(user_id: int | None) -> str | None:
    return db.session.scalar(select(User.email).where(User.id == user_id)) if user_id is not None else None


def _desks() -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.email)).all())
