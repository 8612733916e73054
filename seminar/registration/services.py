"""Registering, and everything that changes a registration afterwards: orchestration.

Services take plain values and own their transaction (`seminar.database.write_transaction`). Who holds a
place, and the counters of places, are the seat ledger's (`seminar.registration.ledger`): its lock order, its
rule and its writes. A change here locks through the ledger, changes through it, lets it fill the places that
came free from the waiting lists, and records the e-mails in the outbox; the change, the promotions and their
e-mails commit together.

Registering, the one change that comes by the thousand in the first minutes, writes everything first (the
registration as waiting, its round tables as wishes, its e-mail) and locks the Event row last, for the
ledger's statements that decide and count (see `_register`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Integer, String, bindparam, cast, delete, exists, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from seminar.database import execute_committing, write_transaction
from seminar.events.models import Category, Event, Session, registration_open_between
from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.registration import ledger, notifications, signals
from seminar.registration.models import (
    BadgeRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    SeatStatus,
    SessionSeat,
)
from seminar.registration.notifications import MailKind
from seminar.registration.tokens import (
    current_token,
    hash_token,
    issue_token,
    looks_like_token,
    new_link,
    new_token,
    tokens_match,
)
from seminar.registration.validation import InvalidDetails, clean_email, clean_text, email_key

CONFIRMED = RegistrationStatus.confirmed
WAITLISTED = RegistrationStatus.waitlisted
CANCELLED = RegistrationStatus.cancelled

__all__ = [
    "EmailChange", "EmailChangeRefused", "InvalidDetails", "RegistrationClosed", "RegistrationDetails",
    "RegistrationError", "RegistrationNotFound", "RegistrationOutcome", "cancel", "capacity_changed",
    "change_sessions", "confirm_email_change", "erase", "export_data", "find_by_token", "find_email_change",
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
    # Set by organisers only (back-office, imports); None leaves it as it is (a new registration: attendee).
    badge_role: BadgeRole | None = None


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


class ByInvitationOnly(RegistrationError):
    def __init__(self):
        super().__init__(_l("Registration to this seminar is by invitation: register through the personal link "
                            "of your invitation e-mail."))


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


def just_registered(registration_id: int | None) -> Registration | None:
    """A registration a browser has just created, with its seats and their sessions (None: none, erased)."""
    if registration_id is None:
        return None
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id)
        .options(selectinload(Registration.seats).selectinload(SessionSeat.session)))
    return None if registration is None or registration.anonymised_at else registration


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
    invited: bool = False,
) -> RegistrationOutcome:
    """Register someone for an event (its id, or its slug) and the round tables they chose.

    Confirmed while the event has seats, else waitlisted; each round table likewise, independently.
    An address already registered for the event gets no second registration: the answer has the same
    shape and that address receives its self-service link by e-mail (a cancelled registration is taken
    up again with the new details). `overbook` (organisers only) confirms beyond capacity and records it.
    `require_category`: refuse a registration without a category when the event offers some (the public form).
    `invited`: the public form came through an invitation link of the event (an invitation-only event takes
    no other from the web). Raises InvalidDetails, RegistrationClosed, ByInvitationOnly, RegistrationNotFound.
    """
    details = clean_details(details)
    if source is RegistrationSource.web and not details.consent_privacy:
        raise InvalidDetails({"consent_privacy": str(_l("Please accept the privacy notice to register."))})
    languages = current_app.config.get("LANGUAGES", ("fr", "en"))
    locale = locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen_ids = list(dict.fromkeys(session_ids))
    args = (event, details, chosen_ids, locale, source, overbook, notify, require_category, invited)
    try:
        return _register(*args)
    except IntegrityError:
        # The same address registering at the same instant was saved first (unique per event): this one is
        # answered as a second attempt. (Or a category or round table deleted meanwhile: now refused.)
        return _register(*args)


def _register(event: int | str, details: RegistrationDetails, chosen_ids: list[int], locale: str,
              source: RegistrationSource, overbook: bool, notify: bool, require_category: bool,
              invited: bool) -> RegistrationOutcome:
    """One statement checks the event, the address, the category and the round tables (`_registration_state`);
    then the registration is written as waiting with its round tables as wishes, and only at the end is the
    event locked, for the ledger's statements that decide and count (`ledger.decision_statements`), and the
    commit. The lock is thus held for the database's work only, not for ours."""
    with write_transaction():
        key = email_key(details.email)
        state = _registration_state(event, key, details.category_id)
        if state is None:
            raise RegistrationNotFound()
        if source is RegistrationSource.web and not registration_open_between(state.opens_at, state.closes_at):
            raise RegistrationClosed()
        if source is RegistrationSource.web and state.invitation_only and not invited:
            raise ByInvitationOnly()
        if not state.offers(chosen_ids):
            raise InvalidDetails({"sessions": str(_l("Choose among the round tables offered."))})
        if not state.category_known or (require_category and details.category_id is None and state.categories):
            raise InvalidDetails({"category": str(_l("Choose a category from the list."))})
        if state.existing_id is None:
            registration_id = state.next_id
            writes, token = _new_registration(state, key, details, chosen_ids, locale, source, notify)
            for _subscriber, statements in signals.registration_created.send(
                    current_app._get_current_object(), event_id=state.event_id, registration_id=registration_id,
                    email_key=key):
                writes.extend(statements or ())
        else:
            registration = db.session.get(Registration, state.existing_id)
            if registration.status is not CANCELLED:
                if notify and not _mailed_recently(registration.id):
                    notifications.notify(MailKind.link, registration)
                return RegistrationOutcome(registration.id, None, False, registration.status)
            # Taken up again with the new details, decided like a new one (same link): its status is set to
            # waiting without counting it, as a new registration is written, until the decision counts it.
            registration_id, token, writes = registration.id, None, []
            _write_details(registration, details)
            registration.source, registration.locale, registration.cancelled_at = source, locale, None
            registration.status, registration.overbooked, registration.created_at = WAITLISTED, False, utcnow()
            ledger.wish(registration, chosen_ids, since=registration.created_at)
            if notify:
                notifications.notify_registered(registration)
            db.session.flush()
        params = {"the_event": state.event_id, "the_registration": registration_id, "now": utcnow()}
        deciding = [(statement, params) for statement in ledger.decision_statements(overbook, bool(chosen_ids))]
        [(status,)] = execute_committing([*writes, *deciding])[len(writes) + 1]
        return RegistrationOutcome(registration_id, token, token is not None, RegistrationStatus(status))


def _mailed_recently(registration_id: int) -> bool:
    """Whether the registration was sent (or is about to be sent) an e-mail less than
    REGISTRATION_LINK_RESEND_AFTER seconds ago: the same form submitted again, or ten times at once, sends
    the e-mails of one registration, once."""
    since = utcnow() - timedelta(seconds=current_app.config["REGISTRATION_LINK_RESEND_AFTER"])
    return db.session.scalar(select(exists().where(
        OutboxMessage.registration_id == registration_id, OutboxMessage.created_at > since)))


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
    """Cancel a registration and its seats; the places it frees go to the waiting lists (ids returned)."""
    with write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        if registration.status is CANCELLED:
            return []
        return _cancel_locked(registration, event, notify=True)


def restore(registration_id: int, *, while_open: bool = False) -> RegistrationStatus:
    """Take a cancelled registration up again with the round tables it held; capacity applies as for a new one.
    An organiser's action, or the registrant's own with `while_open` (refused outside the registration window:
    RegistrationClosed)."""
    with write_transaction():
        registration, event, sessions = _lock_registration(registration_id)
        if registration.status is not CANCELLED:
            return registration.status
        if while_open and not registration_open_between(event.registration_opens_at, event.registration_closes_at):
            raise RegistrationClosed()
        # The round tables it held when it was cancelled (not those given up before), registered anew: at the back
        # of the waiting lists, the event's and its round tables'.
        held = [seat.session_id for seat in registration.seats if seat.updated_at >= registration.cancelled_at]
        registration.cancelled_at, registration.created_at = None, utcnow()
        ledger.wish(registration, held, since=registration.created_at)
        confirmed = ledger.admit(registration)
        kind = MailKind.confirmation if registration.status is CONFIRMED else MailKind.waitlisted
        notifications.notify(kind, registration, sessions_confirmed=[sessions[i] for i in confirmed])
        return registration.status


def change_sessions(registration_id: int, session_ids: Iterable[int]) -> list[int]:
    """Replace the registrant's round tables: new ones are confirmed or waitlisted by capacity (wishes while the
    registration waits for the event), places given up go to the waiting lists (promoted registration ids
    returned). Raises InvalidDetails, RegistrationError."""
    with write_transaction():
        registration, event, sessions = _lock_registration(registration_id)
        if registration.status is CANCELLED:
            raise RegistrationError(_l("This registration is cancelled."))
        chosen_ids = [s.id for s in _chosen_sessions(sessions, session_ids)]
        held = {seat.session_id: seat for seat in registration.active_seats()}
        released = [seat for seat in held.values() if seat.session_id not in chosen_ids]
        added = [i for i in chosen_ids if i not in held]
        if not added and not released:
            return []
        freed = [seat.session_id for seat in released if ledger.release(seat)]
        ledger.wish(registration, added)
        confirmed = ledger.decide_wishes(registration)
        notifications.notify(MailKind.updated, registration, sessions_confirmed=[sessions[i] for i in confirmed],
                             sessions_released=[sessions[i] for i in freed])
        return _promote(event, sessions, freed, event_level=False)


def leave_waitlist(registration_id: int, session_id: int | None = None) -> list[int]:
    """Leave the event's waiting list (the registration is cancelled) or one round table's (that seat only)."""
    with write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        if session_id is None:
            if registration.status is not WAITLISTED:
                raise RegistrationError(_l("This registration is not on the waiting list."))
            return _cancel_locked(registration, event, notify=True)
        seat = next((s for s in registration.seats if s.session_id == session_id), None)
        if seat is None or seat.status not in (SeatStatus.waitlisted, SeatStatus.wish):
            raise RegistrationError(_l("You are not on this round table's waiting list."))
        ledger.release(seat)
        notifications.notify(MailKind.updated, registration)
        return []


def update_details(registration_id: int, details: RegistrationDetails) -> bool:
    """Change a registrant's details (consent to the privacy notice is kept as first given), all but a new
    address: that one is only e-mailed a link to confirm it (`confirm_email_change`), when no other registration
    of the event uses it. Returns whether a new address was asked for; the answer, like everything the caller
    sees, is the same whether the address is free or taken, so that the page tells nobody who else attends."""
    details = clean_details(details)
    with write_transaction():
        registration, event, _sessions = _lock_registration(registration_id)
        _check_category(event.id, details.category_id)
        new_email, key = details.email, email_key(details.email)
        asked = key != registration.email_key
        if asked:
            details = replace(details, email=registration.email)
            if registration.status is not CANCELLED and not _address_taken(event.id, key):
                notifications.notify_email_change(registration, new_email, _email_change_code(registration, new_email))
        consent_at = registration.consent_privacy_at
        _write_details(registration, details)
        registration.consent_privacy_at = consent_at or registration.consent_privacy_at
        return asked


# --- changing the address: a signed link to the new one ------------------------------------------------

class EmailChangeRefused(RegistrationError):
    """A link confirming a new address that cannot be used (tampered, expired, used, or the address taken)."""


_EMAIL_CHANGE_SALT = "seminar.registration.email-change"
_LINK_NOT_VALID = _l("This confirmation link is not valid, or no longer: it may have been used already, or the "
                     "registration has changed since it was sent.")


@dataclass(frozen=True)
class EmailChange:
    registration: Registration  # with its event
    new_email: str


def _email_change_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_EMAIL_CHANGE_SALT)


def _address_fingerprint(key: str) -> str:
    """The registration's current address in a link, keyed so that the link does not show it: the link stops
    working once the address changes, and whoever receives it does not learn the old one."""
    secret = f"{_EMAIL_CHANGE_SALT}:{current_app.config['SECRET_KEY']}".encode()
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]


def _email_change_code(registration: Registration, new_email: str) -> str:
    """Signed and dated: the registration, the new address and (a fingerprint of) the current one."""
    return _email_change_serializer().dumps(
        [registration.id, new_email, _address_fingerprint(registration.email_key)])


def _read_email_change_code(code: str) -> tuple[int, str, str]:
    try:
        registration_id, new_email, fingerprint = _email_change_serializer().loads(
            code, max_age=current_app.config["REGISTRATION_EMAIL_CHANGE_MAX_AGE"])
    except SignatureExpired:
        raise EmailChangeRefused(_l("This confirmation link has expired. Type the new address again on your "
                                    "registration page to receive a new link.")) from None
    except (BadData, TypeError, ValueError, UnicodeError):
        raise EmailChangeRefused(_LINK_NOT_VALID) from None
    if not isinstance(registration_id, int) or not isinstance(new_email, str) or not isinstance(fingerprint, str):
        raise EmailChangeRefused(_LINK_NOT_VALID)
    return registration_id, new_email, fingerprint


def _check_still_asked(registration: Registration | None, fingerprint: str) -> Registration:
    """The link works while the registration stands with the address it was sent from."""
    if (registration is None or registration.anonymised_at is not None or registration.status is CANCELLED
            or not hmac.compare_digest(_address_fingerprint(registration.email_key), fingerprint)):
        raise EmailChangeRefused(_LINK_NOT_VALID)
    return registration


def find_email_change(code: str) -> EmailChange:
    """What a confirmation link asks, read only (a GET shows it: mail scanners follow links).
    Raises EmailChangeRefused."""
    registration_id, new_email, fingerprint = _read_email_change_code(code)
    registration = db.session.scalar(
        select(Registration).where(Registration.id == registration_id).options(selectinload(Registration.event)))
    return EmailChange(_check_still_asked(registration, fingerprint), new_email)


def confirm_email_change(code: str) -> str:
    """Give the registration the new address of a confirmation link, if no other registration of the event took
    it meanwhile; the old address is told. The self-service link stays the same: returned.
    Raises EmailChangeRefused."""
    registration_id, new_email, fingerprint = _read_email_change_code(code)
    taken = EmailChangeRefused(_l("This address is already registered for this event, so it cannot be used for "
                                  "this registration."))
    try:
        with write_transaction():
            try:
                registration, event, _sessions = _lock_registration(registration_id)
            except RegistrationNotFound:
                raise EmailChangeRefused(_LINK_NOT_VALID) from None
            _check_still_asked(registration, fingerprint)
            key = email_key(new_email)
            if _address_taken(event.id, key):
                raise taken
            old_email = registration.email
            registration.email, registration.email_key = new_email, key
            notifications.notify_email_changed(registration, old_email)
            return current_token(registration)
    except IntegrityError:  # registered with that address at the same instant (unique per event)
        raise taken from None


def _address_taken(event_id: int, key: str) -> bool:
    return db.session.scalar(select(exists().where(Registration.event_id == event_id,
                                                   Registration.email_key == key)))


def promote_from_waitlist(event_id: int, session_id: int | None = None) -> list[int]:
    """Fill free places from the waiting lists, oldest first: the event's and every round table's, or only
    `session_id`'s. Returns the promoted registration ids (each is told by e-mail)."""
    with write_transaction():
        event, sessions = _lock_event(event_id)
        if session_id is None:
            return _promote(event, sessions, sessions, event_level=True)
        if session_id not in sessions:
            raise RegistrationNotFound()
        return _promote(event, sessions, [session_id], event_level=False)


def promote_registration(registration_id: int, *, session_id: int | None = None) -> None:
    """An organiser moves ONE chosen waitlisted registration (or, with `session_id`, its seat in that round
    table) to confirmed, whoever is ahead of it and even beyond capacity; going beyond is recorded in
    `Registration.overbooked`. A registration so confirmed has its round-table wishes decided as usual. The
    registrant gets the promotion e-mail, as with automatic promotion.
    Raises RegistrationError when the registration (or seat) is not on the waiting list."""
    with write_transaction():
        registration, _event, sessions = _lock_registration(registration_id)
        seat = None
        if session_id is None:
            if registration.status is not WAITLISTED:
                raise RegistrationError(_l("This registration is not on the waiting list."))
        else:
            seat = next((s for s in registration.seats if s.session_id == session_id), None)
            if seat is None or seat.status is not SeatStatus.waitlisted:
                raise RegistrationError(_l("This registration is not on this round table's waiting list."))
        promotions: dict[int, ledger.Promotion] = {}
        ledger.promote(registration, promotions, seat, beyond_capacity=True)
        _notify_promoted(promotions, sessions)


def capacity_changed(event_id: int, session_id: int | None = None) -> list[int]:
    """Subscriber of `seminar.events.signals.capacity_changed`, inside the transaction that changed the
    capacity (the event is locked): the waiting list moves up into the new places. Lowering a capacity never
    removes anyone (the programme refuses a capacity below the confirmed count). Called alone, it is a
    transaction of its own."""
    with write_transaction():
        event, sessions = _lock_event(event_id)
        if session_id is None:
            return _promote(event, sessions, [], event_level=True)
        return _promote(event, sessions, [session_id], event_level=False)


def reissue_token(registration_id: int) -> str:
    """A new self-service token (the previous link stops working); returned, not e-mailed."""
    with write_transaction():
        registration = _get(registration_id)
        return issue_token(registration)


def send_link(registration_id: int) -> None:
    """E-mail the registrant their current self-service link."""
    with write_transaction():
        notifications.notify(MailKind.link, _get(registration_id))


def erase(registration_id: int) -> list[int]:
    """GDPR erasure: the registration is anonymised (kept only as a count), its seats are released and its
    e-mails deleted from the outbox; the link stops working. Returns promoted registration ids."""
    with write_transaction():
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

def _lock_event(event_id: int) -> tuple[Event, dict[int, Session]]:
    try:
        return ledger.lock_event(event_id)
    except ledger.NotFound:
        raise RegistrationNotFound() from None


def _lock_registration(registration_id: int) -> tuple[Registration, Event, dict[int, Session]]:
    try:
        return ledger.lock_registration(registration_id)
    except ledger.NotFound:
        raise RegistrationNotFound() from None


def _get(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        raise RegistrationNotFound()
    return registration


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
    invitation_only: bool  # registration from the web only through an invitation link

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
        Event.invitation_only,
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
        "badge_role": (details.badge_role or BadgeRole.attendee).name,
    }
    writes = [(_insert(Registration, tuple(registration)), registration)]
    for session_id in session_ids:
        seat = {"registration_id": registration_id, "session_id": session_id, "status": SeatStatus.wish.name,
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
    if details.badge_role is not None:
        registration.badge_role = details.badge_role
    if details.consent_privacy and registration.consent_privacy_at is None:
        registration.consent_privacy_at = utcnow()


def _cancel_locked(registration: Registration, event: Event, *, notify: bool) -> list[int]:
    was_confirmed = registration.status is CONFIRMED
    freed = ledger.cancel(registration)
    sessions = {s.id: s for s in event.sessions}
    if notify:
        notifications.notify(MailKind.cancelled, registration, sessions_released=[sessions[i] for i in freed])
    return _promote(event, sessions, freed, event_level=was_confirmed)


def _promote(event: Event, sessions: dict[int, Session], session_ids: Iterable[int], *, event_level: bool
             ) -> list[int]:
    """Fill the places free now from the waiting lists (`ledger.fill`); one e-mail per person promoted."""
    promotions = ledger.fill(event, session_ids, event_level=event_level)
    _notify_promoted(promotions, sessions)
    return sorted(promotions)


def _notify_promoted(promotions: dict[int, ledger.Promotion], sessions: dict[int, Session]) -> None:
    """One promotion e-mail per person (with the calendar invites of what was confirmed: the event's only
    when the registration itself was promoted, not for a seat alone)."""
    for promotion in promotions.values():
        notifications.notify(MailKind.promoted, promotion.registration,
                             sessions_confirmed=[sessions[i] for i in promotion.sessions],
                             seats_only=not promotion.event)
