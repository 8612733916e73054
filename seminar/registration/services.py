"""Registering, and everything that changes a registration afterwards.

Services take plain values, own their transaction and commit. Every change of status follows one
pattern (pretix's rule: lock once, as late as possible, then re-check availability):

1. `begin_write_transaction()` (SQLite: BEGIN IMMEDIATE, the database-wide write lock);
2. lock the Event row, then the event's Session rows in id order (`SELECT … FOR UPDATE` on PostgreSQL),
   always in that order, so that two transactions cannot deadlock;
3. count what is taken, decide confirmed or waitlisted, write; promote the oldest waitlisted
   registrations into any seat the change freed; record the e-mails in the outbox;
4. commit: the change, the promotions and their e-mails are one transaction.

Registering, the one change that comes by the thousand in the first minutes, writes everything first (the
registration and its seats as waiting, its e-mail) and locks only the Event row, last, for two UPDATEs that
count and decide (see `_register`): every other change of a seat locks the Event row first, so the counts
it reads under that lock are exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import aliased, selectinload

from seminar.database import begin_write_transaction
from seminar.events.models import Category, Event, Session, registration_open_between
from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.registration import notifications
from seminar.registration.models import Registration, RegistrationSource, RegistrationStatus, SessionSeat
from seminar.registration.notifications import MailKind
from seminar.registration.tokens import hash_token, issue_token, looks_like_token, new_link, new_token, tokens_match
from seminar.registration.validation import InvalidDetails, clean_email, clean_text, email_key

CONFIRMED = RegistrationStatus.confirmed
WAITLISTED = RegistrationStatus.waitlisted
CANCELLED = RegistrationStatus.cancelled

__all__ = [
    "InvalidDetails", "RegistrationClosed", "RegistrationDetails", "RegistrationError", "RegistrationNotFound",
    "RegistrationOutcome", "cancel", "capacity_changed", "change_sessions", "erase", "export_data", "find_by_token",
    "leave_waitlist", "promote_from_waitlist", "promote_registration", "register", "reissue_token", "restore",
    "send_link", "update_details",
]


@dataclass
class RegistrationDetails:
    first_name: str
    last_name: str
    email: str
    organisation: str = ""
    job_title: str = ""
    category_id: int | None = None
    dietary: str = ""
    accessibility: str = ""
    consent_privacy: bool = True
    consent_listing: bool = False


@dataclass(frozen=True)
class RegistrationOutcome:
    registration_id: int
    # The self-service token of a new registration; None when the address was already registered
    # (the link then goes to that address only, by e-mail).
    token: str | None
    created: bool
    status: RegistrationStatus


class RegistrationError(Exception):
    """A request the rules refuse; `message` is meant for the registrant."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class RegistrationClosed(RegistrationError):
    def __init__(self):
        super().__init__(_l("Registration for this event is closed."))


class RegistrationNotFound(RegistrationError):
    def __init__(self):
        super().__init__(_l("This registration does not exist."))


# --- reading ---------------------------------------------------------------------------------------

def find_by_token(token: str) -> Registration | None:
    """The registration a self-service token opens, or None (unknown, malformed, erased)."""
    if not looks_like_token(token):
        return None
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.token_hash == hash_token(token))
        .options(selectinload(Registration.seats).selectinload(SessionSeat.session), selectinload(Registration.event))
    )
    if registration is None or not tokens_match(token, registration.token_hash) or registration.anonymised_at:
        return None
    return registration


def export_data(registration_id: int) -> dict:
    """Everything stored about a registrant, for the GDPR right of access (JSON-ready)."""
    registration = _get(registration_id)

    def when(moment):
        return moment.isoformat() if moment else None

    return {
        "event": {"slug": registration.event.slug, "title": registration.event.title},
        "first_name": registration.first_name,
        "last_name": registration.last_name,
        "email": registration.email,
        "organisation": registration.organisation,
        "job_title": registration.job_title,
        "category": registration.category.label if registration.category else None,
        "dietary": registration.dietary,
        "accessibility": registration.accessibility,
        "consent_privacy_at": when(registration.consent_privacy_at),
        "consent_listing": registration.consent_listing,
        "status": registration.status.value,
        "source": registration.source.value,
        "locale": registration.locale,
        "created_at": when(registration.created_at),
        "updated_at": when(registration.updated_at),
        "cancelled_at": when(registration.cancelled_at),
        "promoted_at": when(registration.promoted_at),
        "checked_in_at": when(registration.checked_in_at),
        "round_tables": [
            {"id": seat.session_id, "title": seat.session.title, "status": seat.status.value,
             "since": when(seat.created_at)}
            for seat in registration.seats
        ],
    }


# --- registering -----------------------------------------------------------------------------------

def register(
    event: int | str,
    details: RegistrationDetails,
    session_ids: Iterable[int],
    *,
    locale: str = "fr",
    source: RegistrationSource = RegistrationSource.web,
    overbook: bool = False,
    notify: bool = True,
    require_category: bool = False,
) -> RegistrationOutcome:
    """Register someone for an event (its id, or its slug) and the round tables they chose.

    Confirmed while the event has seats, else waitlisted; each round table likewise, independently.
    An address already registered for the event gets no second registration: the answer has the same
    shape and that address receives its self-service link by e-mail (a cancelled registration is taken
    up again with the new details). `overbook` (organisers only) confirms beyond capacity and records it.
    `require_category`: refuse a registration without a category when the event offers some (the public form).
    Raises InvalidDetails, RegistrationClosed, RegistrationNotFound.
    """
    details = clean_details(details)
    if source is RegistrationSource.web and not details.consent_privacy:
        raise InvalidDetails({"consent_privacy": str(_l("Please accept the privacy notice to register."))})
    languages = current_app.config.get("LANGUAGES", ("fr", "en"))
    locale = locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen_ids = list(dict.fromkeys(session_ids))
    args = (event, details, chosen_ids, locale, source, overbook, notify, require_category)
    try:
        return _register(*args)
    except IntegrityError:
        # The same address registering at the same instant was saved first (unique per event): this one is
        # answered as a second attempt. (Or a category or round table deleted meanwhile: now refused.)
        return _register(*args)


def _register(event: int | str, details: RegistrationDetails, chosen_ids: list[int], locale: str,
              source: RegistrationSource, overbook: bool, notify: bool, require_category: bool) -> RegistrationOutcome:
    """One statement checks the event, the address, the category and the round tables (`_registration_state`);
    then the registration and its seats are written as waiting, and only at the end is the event locked, for
    the statements that count the places and decide, and the commit (`_decide_and_commit`). The lock is thus
    held for the database's work only, not for ours."""
    with _write_transaction():
        begin_write_transaction()
        key = email_key(details.email)
        state = _registration_state(event, key, details.category_id)
        if state is None:
            raise RegistrationNotFound()
        if source is RegistrationSource.web and not registration_open_between(state.opens_at, state.closes_at):
            raise RegistrationClosed()
        if not state.offers(chosen_ids):
            raise InvalidDetails({"sessions": str(_l("Choose among the round tables offered."))})
        if not state.category_known or (require_category and details.category_id is None and state.categories):
            raise InvalidDetails({"category": str(_l("Choose a category from the list."))})
        if state.existing_id is None:
            registration_id = state.next_id
            writes, token = _new_registration(state, key, details, chosen_ids, locale, source, notify)
        else:
            registration = db.session.get(Registration, state.existing_id)
            if registration.status is not CANCELLED:
                if notify:
                    notifications.notify(MailKind.link, registration)
                return RegistrationOutcome(registration.id, None, False, registration.status)
            # Taken up again with the new details, as waiting until decided like a new one (same link).
            registration_id, token, writes = registration.id, None, []
            _write_details(registration, details)
            registration.source, registration.locale, registration.cancelled_at = source, locale, None
            registration.status, registration.overbooked = WAITLISTED, False
            _wait_for_seats(registration, chosen_ids)
            if notify:
                notifications.notify_registered(registration)
            db.session.flush()
        status = _decide_and_commit(state.event_id, registration_id, bool(chosen_ids), overbook, writes)
        return RegistrationOutcome(registration_id, token, token is not None, status)


def clean_details(details: RegistrationDetails) -> RegistrationDetails:
    """Trimmed, checked copy of `details`; raises InvalidDetails with every field's problem at once."""
    cleaned, errors = {}, {}
    for f in fields(details):
        value = getattr(details, f.name)
        try:
            if f.name == "email":
                cleaned[f.name] = clean_email(value)
            elif isinstance(value, str) or f.name in ("first_name", "last_name"):
                cleaned[f.name] = clean_text(f.name, value)
            else:
                cleaned[f.name] = value
        except InvalidDetails as invalid:
            errors.update(invalid.errors)
    if errors:
        raise InvalidDetails(errors)
    return RegistrationDetails(**cleaned)


# --- changing a registration -------------------------------------------------------------------------

def cancel(registration_id: int) -> list[int]:
    """Cancel a registration and its seats; the seats it frees go to the waiting lists (ids returned)."""
    with _write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        if registration.status is CANCELLED:
            return []
        return _cancel_locked(registration, event, notify=True)


def restore(registration_id: int) -> RegistrationStatus:
    """Take a cancelled registration up again; capacity applies as for a new one (organiser action)."""
    with _write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        if registration.status is not CANCELLED:
            return registration.status
        registration.status, registration.overbooked = _event_place(event, overbook=False)
        registration.cancelled_at = None
        sessions = [seat.session for seat in registration.seats if seat.status is CANCELLED]
        confirmed = _take_seats(registration, sessions, overbook=False)
        kind = MailKind.confirmation if registration.status is CONFIRMED else MailKind.waitlisted
        notifications.notify(kind, registration, sessions_confirmed=confirmed)
        return registration.status


def change_sessions(registration_id: int, session_ids: Iterable[int]) -> list[int]:
    """Replace the registrant's round tables: new ones are confirmed or waitlisted by capacity, seats given up
    go to the waiting lists (promoted registration ids returned). Raises InvalidDetails, RegistrationError."""
    with _write_transaction():
        registration, event, sessions = _lock_registration(registration_id)
        if registration.status is CANCELLED:
            raise RegistrationError(_l("This registration is cancelled."))
        chosen = _chosen_sessions(sessions, session_ids)
        chosen_ids = {s.id for s in chosen}
        held = {seat.session_id: seat for seat in registration.active_seats()}
        released, freed = [], []
        for seat in held.values():
            if seat.session_id not in chosen_ids:
                if seat.status is CONFIRMED:
                    released.append(seat.session)
                    freed.append(seat.session)
                seat.status = CANCELLED
        added = [s for s in chosen if s.id not in held]
        if not added and not released and len(held) == len(chosen_ids):
            return []
        confirmed = _take_seats(registration, added, overbook=False)
        notifications.notify(MailKind.updated, registration, sessions_confirmed=confirmed, sessions_released=released)
        return _promote(event, freed, event_level=False)


def leave_waitlist(registration_id: int, session_id: int | None = None) -> list[int]:
    """Leave the event's waiting list (the registration is cancelled) or one round table's (that seat only)."""
    with _write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        if session_id is None:
            if registration.status is not WAITLISTED:
                raise RegistrationError(_l("This registration is not on the waiting list."))
            return _cancel_locked(registration, event, notify=True)
        seat = next((s for s in registration.seats if s.session_id == session_id), None)
        if seat is None or seat.status is not WAITLISTED:
            raise RegistrationError(_l("You are not on this round table's waiting list."))
        seat.status = CANCELLED
        notifications.notify(MailKind.updated, registration)
        return []


def update_details(registration_id: int, details: RegistrationDetails) -> None:
    """Change a registrant's details (consent to the privacy notice is kept as first given)."""
    details = clean_details(details)
    with _write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        _check_category(event.id, details.category_id)
        key = email_key(details.email)
        if key != registration.email_key:
            taken = db.session.scalar(
                select(Registration.id).where(Registration.event_id == event.id, Registration.email_key == key)
            )
            if taken is not None:
                raise InvalidDetails({"email": str(_l("This address cannot be used for this registration."))})
            registration.email_key = key
        consent_at = registration.consent_privacy_at
        _write_details(registration, details)
        registration.consent_privacy_at = consent_at or registration.consent_privacy_at


def promote_from_waitlist(event_id: int, session_id: int | None = None) -> list[int]:
    """Fill free seats from the waiting lists, oldest first: the event's and every round table's, or only
    `session_id`'s. Returns the promoted registration ids (each is told by e-mail)."""
    with _write_transaction():
        event, sessions = _lock_event(event_id)
        if session_id is None:
            return _promote(event, sessions.values(), event_level=True)
        if session_id not in sessions:
            raise RegistrationNotFound()
        return _promote(event, [sessions[session_id]], event_level=False)


def promote_registration(registration_id: int, *, session_id: int | None = None) -> None:
    """An organiser moves ONE chosen waitlisted registration (or, with `session_id`, its seat in that round
    table) to confirmed, whoever is ahead of it and even beyond capacity; going beyond is recorded in
    `Registration.overbooked`. The registrant gets the promotion e-mail, as with automatic promotion.
    Raises RegistrationError when the registration (or seat) is not on the waiting list."""
    with _write_transaction():
        registration, event, sessions = _lock_registration(registration_id)
        if session_id is None:
            if registration.status is not WAITLISTED:
                raise RegistrationError(_l("This registration is not on the waiting list."))
            beyond = event.capacity is not None and _confirmed_in_event(event.id) >= event.capacity
            seat = None
        else:
            seat = next((s for s in registration.seats if s.session_id == session_id), None)
            if seat is None or seat.status is not WAITLISTED or registration.status is CANCELLED:
                raise RegistrationError(_l("This registration is not on this round table's waiting list."))
            session = sessions[session_id]
            beyond = session.capacity is not None and _confirmed_in_session(session.id) >= session.capacity
        registration.overbooked = registration.overbooked or beyond
        promoted: dict[int, _Promotion] = {}
        _mark_promoted(promoted, registration, seat, utcnow())
        _notify_promoted(promoted)


def capacity_changed(event_id: int, session_id: int | None = None) -> list[int]:
    """Call after an organiser has committed a new (higher) capacity for the event or a session: the
    waiting list moves up into the new seats. Lowering a capacity never removes anyone."""
    return promote_from_waitlist(event_id, session_id)


def reissue_token(registration_id: int) -> str:
    """A new self-service token (the previous link stops working); returned, not e-mailed."""
    with _write_transaction():
        registration = _get(registration_id)
        return issue_token(registration)


def send_link(registration_id: int) -> None:
    """E-mail the registrant their current self-service link."""
    with _write_transaction():
        notifications.notify(MailKind.link, _get(registration_id))


def erase(registration_id: int) -> list[int]:
    """GDPR erasure: the registration is anonymised (kept only as a count), its seats are released and its
    e-mails deleted from the outbox; the link stops working. Returns promoted registration ids."""
    with _write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        promoted = [] if registration.status is CANCELLED else _cancel_locked(registration, event, notify=False)
        placeholder = f"erased-{registration.id}@invalid"
        for name in ("first_name", "last_name", "organisation", "job_title", "dietary", "accessibility"):
            setattr(registration, name, "")
        registration.email = registration.email_key = placeholder
        registration.consent_listing = False
        registration.token_salt = ""
        registration.token_hash = hash_token(new_token())
        registration.anonymised_at = utcnow()
        db.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.registration_id == registration.id, OutboxMessage.status != OutboxStatus.sending
            )
        )
        return promoted


# --- inside the locked transaction ---------------------------------------------------------------------

@contextmanager
def _write_transaction():
    """Commit what the block did, or roll everything back (the locks go with it)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _lock_event(event_id: int, *, begin: bool = True) -> tuple[Event, dict[int, Session]]:
    if begin:
        begin_write_transaction()
    event = db.session.scalar(
        select(Event).where(Event.id == event_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise RegistrationNotFound()
    sessions = db.session.scalars(
        select(Session).where(Session.event_id == event_id).order_by(Session.id)
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    )
    return event, {s.id: s for s in sessions}


def _lock_registration(registration_id: int) -> tuple[Registration, Event, dict[int, Session]]:
    begin_write_transaction()
    event_id = db.session.scalar(select(Registration.event_id).where(Registration.id == registration_id))
    if event_id is None:
        raise RegistrationNotFound()
    event, sessions = _lock_event(event_id, begin=False)
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id)
        .options(selectinload(Registration.seats)).execution_options(populate_existing=True)
    )
    return registration, event, sessions


def _get(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise RegistrationNotFound()
    return registration


def _decide_and_commit(event_id: int, registration_id: int, with_seats: bool, overbook: bool,
                       writes: list[tuple] = ()) -> RegistrationStatus:
    """Write `writes` (statements and their parameters: a new registration's rows), lock the event (every change
    of a seat locks it first, so what is counted under it is exact), confirm the registration and each of its
    seats (all saved as waiting) where a place is left, in UPDATEs that count as they decide, and commit.
    `overbook` confirms anyway and records whether that went beyond capacity.

    On PostgreSQL (psycopg) the statements go in one pipeline: the server writes, takes the lock, decides and
    commits without waiting for the client between them, so the lock is held for the server's work only.
    Sent one by one, each round trip waited for the web process to be scheduled again on a busy machine, and
    that wait, multiplied by every registration queued behind the lock, set the throughput (bench/).
    """
    params = {"the_event": event_id, "the_registration": registration_id, "now": utcnow()}
    deciding = [(statement, params) for statement in _decision_statements(overbook, with_seats)]
    [(status,)] = _execute_committing([*writes, *deciding])[len(writes) + 1]
    db.session.commit()  # psycopg: the database has committed already, this sends no statement
    return RegistrationStatus(status)


def _seat_room(seat=SessionSeat):
    """Whether `seat`'s round table has a place left, for UPDATEs and SELECTs on session_seat that decide
    seat by seat."""
    others = aliased(SessionSeat)
    confirmed = (select(func.count()).select_from(others)
                 .where(others.session_id == seat.session_id, others.status == CONFIRMED).scalar_subquery())
    capacity = select(Session.capacity).where(Session.id == seat.session_id).scalar_subquery()
    return or_(capacity.is_(None), confirmed < capacity)


@cache
def _decision_statements(overbook: bool, with_seats: bool) -> tuple:
    """The lock and the deciding UPDATEs of `_decide_and_commit`, with bound parameters the_event,
    the_registration and now (built once: building and compiling them cost more than running them)."""
    event_id, registration_id, now = bindparam("the_event"), bindparam("the_registration"), bindparam("now")
    others = aliased(Registration)
    confirmed = (select(func.count()).select_from(others)
                 .where(others.event_id == event_id, others.status == CONFIRMED).scalar_subquery())
    capacity = select(Event.capacity).where(Event.id == event_id).scalar_subquery()
    event_room = or_(capacity.is_(None), confirmed < capacity)

    def decided(room):
        return literal(CONFIRMED.name) if overbook else case((room, CONFIRMED.name), else_=WAITLISTED.name)

    overbooked = Registration.overbooked
    if overbook:  # organisers only: note a confirmation beyond the event's or a round table's capacity
        beyond = not_(event_room)
        if with_seats:  # decided before the seats' UPDATE below: they are all still waiting
            mine = aliased(SessionSeat)
            beyond = or_(beyond, exists().where(mine.registration_id == registration_id, mine.status == WAITLISTED,
                                                not_(_seat_room(mine))))
        overbooked = or_(overbooked, beyond)
    statements = [
        select(Event.id).where(Event.id == event_id).with_for_update(key_share=True),
        update(Registration).where(Registration.id == registration_id)
        .values(status=decided(event_room), updated_at=now, overbooked=overbooked)
        .returning(Registration.status),
    ]
    if with_seats:
        statements.append(
            update(SessionSeat).where(SessionSeat.registration_id == registration_id, SessionSeat.status == WAITLISTED)
            .values(status=decided(_seat_room()), updated_at=now))
    return tuple(statements)


def _execute_committing(statements: list[tuple]) -> list[list[tuple]]:
    """Run Core statements, each with its parameters; each one's rows (plain values) in order. With psycopg they
    go in one pipeline that ends with COMMIT (see `_decide_and_commit`), their parameters as the database
    stores them (no type conversion); elsewhere the caller's commit follows."""
    connection = db.session.connection()
    if connection.dialect.driver != "psycopg":
        results = (connection.execute(statement, params) for statement, params in statements)
        return [[tuple(row) for row in result] if result.returns_rows else [] for result in results]
    raw = connection.connection.dbapi_connection
    dbapi = connection.dialect.loaded_dbapi
    try:
        with raw.pipeline():
            cursors = []
            for statement, params in statements:
                sql, compiled = _compiled(statement, connection.dialect)
                cursors.append(raw.execute(sql, compiled.construct_params(params)))
            raw.commit()  # COMMIT and the pipeline's only synchronisation: one round trip for all
    except dbapi.Error as error:  # as SQLAlchemy would raise it (an IntegrityError is retried by `register`)
        raise DBAPIError.instance(None, None, error, dbapi.Error) from error
    return [[tuple(row) for row in cursor.fetchall()] if cursor.description else [] for cursor in cursors]


_COMPILED: dict = {}


def _compiled(statement, dialect) -> tuple[str, object]:
    key = (statement, dialect.name, dialect.driver)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect)
        _COMPILED[key] = (str(compiled), compiled)
    return _COMPILED[key]


def _wait_for_seats(registration: Registration, session_ids: Iterable[int]) -> None:
    """A waiting seat in each session (a seat given up before joins the back of the waiting list again)."""
    existing = {seat.session_id: seat for seat in registration.seats}
    for session_id in session_ids:
        seat = existing.get(session_id)
        if seat is None:
            registration.seats.append(SessionSeat(session_id=session_id, status=WAITLISTED))
        else:
            seat.status, seat.created_at = WAITLISTED, utcnow()


def _chosen_sessions(sessions: dict[int, Session], session_ids: Iterable[int]) -> list[Session]:
    chosen = []
    for session_id in dict.fromkeys(session_ids):
        session = sessions.get(session_id)
        if session is None or not session.takes_registrations:
            raise InvalidDetails({"sessions": str(_l("Choose among the round tables offered."))})
        chosen.append(session)
    return chosen


def _check_category(event_id: int, category_id: int | None) -> None:
    if category_id is None:
        return
    if db.session.scalar(select(Category.id).where(Category.id == category_id, Category.event_id == event_id)) is None:
        raise InvalidDetails({"category": str(_l("Choose a category from the list."))})


@dataclass(frozen=True)
class _RegistrationState:
    event_id: int
    opens_at: datetime | None  # the event's registration period
    closes_at: datetime | None
    existing_id: int | None  # a registration of the same address for the event
    category_known: bool  # the chosen category (or none) is one of the event's
    categories: bool  # the event offers categories
    round_tables: str | None  # the ids of the event's round tables, comma-separated (None: it has none)
    next_id: int  # the id a new registration takes (its link is derived from it)

    def offers(self, session_ids: list[int]) -> bool:
        """Whether every id in `session_ids` is one of the event's round tables."""
        return {str(i) for i in session_ids} <= set((self.round_tables or "").split(","))


def _registration_state(event: int | str, key: str, category_id: int | None) -> _RegistrationState | None:
    """What registering needs to know before writing, in one statement (None: no such event). It also draws
    the next registration id (PostgreSQL: from the sequence; SQLite: the next one, under the write lock), so
    that the registration's rows, link included, are written without waiting for an INSERT's answer."""
    bind = db.session.get_bind()
    statement = _state_statement(isinstance(event, str), bind.dialect.name == "postgresql")
    row = db.session.execute(statement, {"event": event, "key": key, "category": category_id}).one_or_none()
    return None if row is None else _RegistrationState(*row)


@cache
def _state_statement(by_slug: bool, postgresql: bool):
    """`_registration_state`'s statement, with bound parameters event, key and category (built once; the round
    tables come as a list, not checked with an IN of the chosen ids, which SQLAlchemy would render anew for
    every request)."""
    category = bindparam("category", type_=Integer)
    of_event = Category.event_id == Event.id
    next_id = (func.nextval(func.pg_get_serial_sequence("registration", "id")) if postgresql
               else select(func.coalesce(func.max(Registration.id), 0) + 1).scalar_subquery())
    return select(
        Event.id, Event.registration_opens_at, Event.registration_closes_at,
        select(Registration.id).where(Registration.event_id == Event.id, Registration.email_key == bindparam("key"))
        .scalar_subquery(),
        or_(category.is_(None), exists().where(of_event, Category.id == category)),
        exists().where(of_event),
        select(func.aggregate_strings(cast(Session.id, String), ","))
        .where(Session.event_id == Event.id, Session.takes_registrations).scalar_subquery(),
        next_id,
    ).where((Event.slug if by_slug else Event.id) == bindparam("event"))


_REGISTRATION_FIELDS = ("first_name", "last_name", "email", "organisation", "job_title", "category_id", "dietary",
                        "accessibility", "consent_listing")


def _new_registration(state: _RegistrationState, key: str, details: RegistrationDetails, session_ids: list[int],
                      locale: str, source: RegistrationSource, notify: bool) -> tuple[list[tuple], str]:
    """The INSERTs (statements and parameters) of a new registration with id `state.next_id`, waiting, its
    waiting seats and its e-mail; and its link's token. Values as stored (enums by name)."""
    now = utcnow()
    registration_id = state.next_id
    salt, token, token_hash = new_link(registration_id)
    registration = {
        **{name: getattr(details, name) for name in _REGISTRATION_FIELDS},
        "id": registration_id, "event_id": state.event_id, "email_key": key,
        "consent_privacy_at": now if details.consent_privacy else None, "status": WAITLISTED.name,
        "source": source.name, "locale": locale, "token_hash": token_hash, "token_salt": salt, "overbooked": False,
        "ical_sequence": 0, "created_at": now, "updated_at": now,
    }
    writes = [(_insert(Registration, tuple(registration)), registration)]
    for session_id in session_ids:
        seat = {"registration_id": registration_id, "session_id": session_id, "status": WAITLISTED.name,
                "ical_sequence": 0, "created_at": now, "updated_at": now}
        writes.append((_insert(SessionSeat, tuple(seat)), seat))
    if notify:
        mail = notifications.registered_mail(registration_id, state.event_id, details.email)
        writes.append((_insert(OutboxMessage, tuple(mail)), mail))
    return writes, token


@cache
def _insert(model, columns: tuple[str, ...]):
    """INSERT INTO model's table (columns) with one bound parameter per column, named after it (built once)."""
    return insert(model.__table__).values({name: bindparam(name) for name in columns})


def _write_details(registration: Registration, details: RegistrationDetails) -> None:
    for name in _REGISTRATION_FIELDS:
        setattr(registration, name, getattr(details, name))
    if details.consent_privacy and registration.consent_privacy_at is None:
        registration.consent_privacy_at = utcnow()


def _confirmed_in_event(event_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Registration)
        .where(Registration.event_id == event_id, Registration.status == CONFIRMED)
    )


def _confirmed_in_session(session_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SessionSeat)
        .where(SessionSeat.session_id == session_id, SessionSeat.status == CONFIRMED)
    )


def _event_place(event: Event, overbook: bool) -> tuple[RegistrationStatus, bool]:
    """(status, overbooked) for one more registration, counted under the lock."""
    if event.capacity is None or _confirmed_in_event(event.id) < event.capacity:
        return CONFIRMED, False
    return (CONFIRMED, True) if overbook else (WAITLISTED, False)


def _take_seats(registration: Registration, sessions: Iterable[Session], overbook: bool) -> list[Session]:
    """Give the registration a seat (confirmed or waitlisted) in each session; returns those confirmed."""
    existing = {seat.session_id: seat for seat in registration.seats}
    confirmed = []
    for session in sessions:
        db.session.flush()
        free = session.capacity is None or _confirmed_in_session(session.id) < session.capacity
        if free or overbook:
            status = CONFIRMED
            registration.overbooked = registration.overbooked or not free
            confirmed.append(session)
        else:
            status = WAITLISTED
        seat = existing.get(session.id)
        if seat is None:
            registration.seats.append(SessionSeat(session=session, status=status))
        else:
            # Taken up again: joins the back of the waiting list like any new request.
            seat.status, seat.created_at = status, utcnow()
    return confirmed


def _cancel_locked(registration: Registration, event: Event, *, notify: bool) -> list[int]:
    was_confirmed = registration.status is CONFIRMED
    freed = [seat.session for seat in registration.seats if seat.status is CONFIRMED]
    registration.status, registration.cancelled_at = CANCELLED, utcnow()
    for seat in registration.seats:
        seat.status = CANCELLED
    if notify:
        notifications.notify(MailKind.cancelled, registration, sessions_released=freed)
    return _promote(event, freed, event_level=was_confirmed)


def _promote(event: Event, sessions: Iterable[Session], *, event_level: bool) -> list[int]:
    """Move the oldest waitlisted registrations (and seats) into free places; one e-mail per person."""
    db.session.flush()
    promoted: dict[int, _Promotion] = {}
    now = utcnow()
    if event_level:
        free = None if event.capacity is None else event.capacity - _confirmed_in_event(event.id)
        if free is None or free > 0:
            waiting = (
                select(Registration)
                .where(Registration.event_id == event.id, Registration.status == WAITLISTED)
                .order_by(Registration.created_at, Registration.id)
                .limit(free)
            )
            for registration in db.session.scalars(waiting):
                _mark_promoted(promoted, registration, None, now)
    for session in sessions:
        free = None if session.capacity is None else session.capacity - _confirmed_in_session(session.id)
        if free is not None and free <= 0:
            continue
        waiting = (
            select(SessionSeat)
            .join(Registration, Registration.id == SessionSeat.registration_id)
            .where(SessionSeat.session_id == session.id, SessionSeat.status == WAITLISTED,
                   Registration.status != CANCELLED)
            .order_by(SessionSeat.created_at, SessionSeat.id)
            .limit(free)
        )
        for seat in db.session.scalars(waiting):
            _mark_promoted(promoted, seat.registration, seat, now)
    _notify_promoted(promoted)
    return sorted(promoted)


@dataclass
class _Promotion:
    """What one person was promoted to in one change: the registration itself (off the event's waiting
    list), and the round tables whose seats were confirmed."""
    registration: Registration
    event: bool = False
    sessions: list[Session] = field(default_factory=list)


def _mark_promoted(promoted: dict[int, _Promotion], registration: Registration, seat: SessionSeat | None,
                   now) -> None:
    """Confirm the registration (seat None) or its seat, and note it in `promoted` for the e-mail."""
    promotion = promoted.setdefault(registration.id, _Promotion(registration))
    if seat is None:
        registration.status, promotion.event = CONFIRMED, True
    else:
        seat.status = CONFIRMED
        promotion.sessions.append(seat.session)
    registration.promoted_at = now


def _notify_promoted(promoted: dict[int, _Promotion]) -> None:
    """One promotion e-mail per person (with the calendar invites of what was confirmed: the event's only
    when the registration itself was promoted, not for a seat alone)."""
    for promotion in promoted.values():
        notifications.notify(MailKind.promoted, promotion.registration, sessions_confirmed=promotion.sessions,
                             seats_only=not promotion.event)
