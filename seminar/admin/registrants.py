"""Registrants of an event for the back office: filtered, searched, sorted and paginated queries (a fixed
number of statements whatever the page size), and the organiser's actions on a registration.

The actions call the registration services, which own their transaction; the audit entry of each action
is then written in a transaction of its own right after (those services commit as they finish).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import ceil

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from seminar.audit.services import record, record_now
from seminar.database import folded, write_transaction
from seminar.events.models import Category, SessionSpeaker, Speaker, SpeakerRole
from seminar.extensions import db
from seminar.inputs import parse_id
from seminar.registration import services as registration
from seminar.registration.models import (
    BadgeRole,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    SeatStatus,
    SessionSeat,
)
from seminar.registration.search import matching_words
from seminar.text import fold

SORTS = {
    "name": (Registration.last_name, Registration.first_name, Registration.id),
    "email": (Registration.email_key, Registration.id),
    "organisation": (Registration.organisation, Registration.last_name, Registration.id),
    "created": (Registration.created_at, Registration.id),
    "status": (Registration.status, Registration.created_at, Registration.id),
    "checked_in": (Registration.checked_in_at, Registration.id),
}
PAGE_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True)
class RegistrantFilters:
    """What the registrants table, the exports and the mailings select. All fields optional."""

    q: str = ""
    status: RegistrationStatus | None = None
    category_id: int | None = None
    session_id: int | None = None
    # True: checked in, False: not yet, None: either.
    checked_in: bool | None = None
    sort: str = "created"
    descending: bool = True

    @classmethod
    def from_args(cls, args) -> RegistrantFilters:
        """From a query string (unknown or malformed values are ignored, never an error)."""
        status = args.get("status", "")
        checked = args.get("checked_in", "")
        sort = args.get("sort", "created")
        return cls(
            q=args.get("q", "").strip()[:200],
            status=RegistrationStatus[status] if status in RegistrationStatus.__members__ else None,
            category_id=parse_id(args.get("category")),
            session_id=parse_id(args.get("session")),
            checked_in={"yes": True, "no": False}.get(checked),
            sort=sort if sort in SORTS else "created",
            descending=args.get("dir", "desc" if sort == "created" else "asc") == "desc",
        )

    @property
    def narrowing(self) -> bool:
        """Whether these filters leave some registrants out (a search or a filter, not only an order)."""
        return bool(self.q or self.status or self.category_id or self.session_id or self.checked_in is not None)

    def to_args(self, **changes) -> dict:
        """The query string that gives these filters back (for links: sorting, pages, exports)."""
        f = replace(self, **changes) if changes else self
        args = {"q": f.q, "status": f.status.name if f.status else "", "category": f.category_id or "",
                "session": f.session_id or "", "checked_in": {True: "yes", False: "no"}.get(f.checked_in, ""),
                "sort": f.sort, "dir": "desc" if f.descending else "asc"}
        return {k: v for k, v in args.items() if v not in ("", None)}


def filtered(event_id: int, filters: RegistrantFilters) -> Select:
    """The SELECT of the event's registrants matching `filters` (without order or paging)."""
    query = select(Registration).where(Registration.event_id == event_id, Registration.anonymised_at.is_(None))
    if (words := matching_words(filters.q)) is not None:
        query = query.where(words)
    if filters.status is not None:
        query = query.where(Registration.status == filters.status)
    if filters.category_id is not None:
        query = query.where(Registration.category_id == filters.category_id)
    if filters.session_id is not None:
        query = query.where(exists().where(and_(
            SessionSeat.registration_id == Registration.id,
            SessionSeat.session_id == filters.session_id,
            SessionSeat.status != SeatStatus.cancelled,
        )))
    if filters.checked_in is True:
        query = query.where(Registration.checked_in_at.is_not(None))
    elif filters.checked_in is False:
        query = query.where(Registration.checked_in_at.is_(None))
    return query


def ordered(query: Select, filters: RegistrantFilters) -> Select:
    columns = SORTS[filters.sort]
    return query.order_by(*(c.desc() if filters.descending else c.asc() for c in columns))


def with_details(query: Select) -> Select:
    """Load category and seats with the rows (one join and one extra query per page, never per row)."""
    return query.options(joinedload(Registration.category), selectinload(Registration.seats))


@dataclass
class Page:
    items: list[Registration]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1)


def registrant_page(event_id: int, filters: RegistrantFilters, page: int = 1, per_page: int = 50) -> Page:
    per_page = per_page if per_page in PAGE_SIZES else 50
    query = filtered(event_id, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = min(max(page, 1), max(ceil(total / per_page), 1))
    rows = db.session.scalars(with_details(ordered(query, filters)).limit(per_page).offset((page - 1) * per_page))
    return Page(list(rows.unique()), total, page, per_page)


def matching(event_id: int, filters: RegistrantFilters) -> list[Registration]:
    """Every matching registrant with category and seats loaded (exports, mailings)."""
    return list(db.session.scalars(with_details(ordered(filtered(event_id, filters), filters))).unique())


def get_registrant(event_id: int, registration_id: int) -> Registration | None:
    return db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.event_id == event_id)
        .options(joinedload(Registration.category), selectinload(Registration.seats).selectinload(SessionSeat.session))
    )


def categories(event_id: int) -> list[Category]:
    return list(db.session.scalars(select(Category).where(Category.event_id == event_id).order_by(Category.position)))


# --- organiser actions -------------------------------------------------------------------------------

def _audit(action: str, event_id: int, registration_id: int | None, details: dict | None = None, user=None) -> None:
    # The registration service has committed its change: the entry follows in a transaction of its own.
    record_now(action, event_id=event_id, target_type="registration", target_id=registration_id, details=details,
               user=user)


def register_manually(event_id: int, details: registration.RegistrationDetails, session_ids: list[int], *,
                      locale: str, overbook: bool, notify: bool, user=None) -> registration.RegistrationOutcome:
    """An organiser registers someone: no rate limit, capacity applies unless `overbook` (recorded)."""
    outcome = registration.register(event_id, details, session_ids, locale=locale, source=RegistrationSource.organiser,
                                    overbook=overbook, notify=notify)
    _audit("registration.manual" if outcome.created else "registration.manual_duplicate", event_id,
           outcome.registration_id, {"email": details.email, "status": outcome.status.value, "overbook": overbook,
                                     "sessions": list(session_ids)}, user)
    return outcome


def cancel(event_id: int, registration_id: int, user=None) -> list[int]:
    promoted = registration.cancel(registration_id)
    _audit("registration.cancel", event_id, registration_id, {"promoted": promoted}, user)
    return promoted


def restore(event_id: int, registration_id: int, user=None) -> RegistrationStatus:
    status = registration.restore(registration_id)
    _audit("registration.restore", event_id, registration_id, {"status": status.value}, user)
    return status


def promote(event_id: int, session_id: int | None = None, user=None) -> list[int]:
    """Fill the free seats of the event (and its round tables) or of one round table from the waiting list."""
    promoted = registration.promote_from_waitlist(event_id, session_id)
    _audit("registration.promote", event_id, None, {"session": session_id, "promoted": promoted}, user)
    return promoted


def promote_one(event_id: int, registration_id: int, session_id: int | None = None, user=None) -> bool:
    """Confirm this waitlisted registration (or its seat in `session_id`) even beyond capacity: an organiser's
    decision, audited. Returns whether the registration is now recorded as overbooked."""
    registration.promote_registration(registration_id, session_id=session_id)
    overbooked = db.session.scalar(select(Registration.overbooked).where(Registration.id == registration_id))
    _audit("registration.promote_one", event_id, registration_id, {"session": session_id, "overbooked": overbooked},
           user)
    return overbooked


def resend_link(event_id: int, registration_id: int, user=None) -> None:
    registration.send_link(registration_id)
    _audit("registration.send_link", event_id, registration_id, None, user)


def set_badge_role(event_id: int, registration_id: int, role: BadgeRole, user=None) -> None:
    """What the registrant's badge says they are (speaker, moderator, organiser, press, staff), audited."""
    with write_transaction():
        registration = db.session.scalar(select(Registration).where(Registration.id == registration_id,
                                                                    Registration.event_id == event_id))
        if registration is None:
            raise LookupError(registration_id)
        if registration.badge_role is not role:
            record("registration.badge_role", event_id=event_id, target_type="registration",
                   target_id=registration_id, details={"badge_role": [registration.badge_role.value, role.value]},
                   user=user)
            registration.badge_role = role


@dataclass(frozen=True)
class SpeakerMatch:
    """A registrant whose name is a speaker's of the programme, with the badge role that fits them."""

    registration: Registration
    speaker_name: str
    role: BadgeRole


def speaker_matches(event_id: int) -> list[SpeakerMatch]:
    """Registrants (not cancelled, still "attendee" on their badge) named as a person of the programme,
    accents and case ignored: moderators and chairs as moderators, panellists and speakers as speakers."""
    roles: dict[str, tuple[str, BadgeRole]] = {}
    links = db.session.execute(
        select(Speaker.name, SessionSpeaker.role).join(SessionSpeaker, SessionSpeaker.speaker_id == Speaker.id)
        .where(Speaker.event_id == event_id, Speaker.is_organisation.is_(False)))
    for name, link_role in links:
        fitting = BadgeRole.moderator if link_role in (SpeakerRole.moderator, SpeakerRole.chair) else BadgeRole.speaker
        known = roles.get(fold(name))
        if known is None or fitting is BadgeRole.moderator:
            roles[fold(name)] = (name, fitting)
    if not roles:
        return []
    candidates = db.session.scalars(
        select(Registration).where(Registration.event_id == event_id,
                                   Registration.status != RegistrationStatus.cancelled,
                                   Registration.badge_role == BadgeRole.attendee,
                                   folded(Registration.first_name + " " + Registration.last_name).in_(roles))
        .order_by(Registration.last_name, Registration.first_name))
    return [SpeakerMatch(r, *roles[fold(r.full_name)]) for r in candidates if fold(r.full_name) in roles]
