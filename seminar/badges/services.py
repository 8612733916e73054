"""Producing badges: choosing the registrants, exporting (now or as a background job), one's own badge.

The rendering modules (`seminar.badges.pool` and the WeasyPrint renderer it drives) are imported by the
functions that render, not with this module: the views import it, and the app starts without WeasyPrint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from seminar.badges.cache import BadgeCache
from seminar.badges.data import badge_data
from seminar.badges.layouts import LAYOUTS
from seminar.events.models import Event, Session
from seminar.extensions import db
from seminar.jobs.services import JobContext, JobResult, enqueue_job
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat
from seminar.text import fold

STATUSES = tuple(status.value for status in RegistrationStatus)


class BadgeRequestError(ValueError):
    """Parameters of a badge export that cannot be honoured; the message says why (English, for logs/CLI)."""


def badge_cache_dir() -> Path:
    return Path(current_app.instance_path) / "cache" / "badges"


def prune_badge_cache() -> int:
    """Housekeeping: delete rendered badge parts no export has used for BADGE_CACHE_RETENTION_DAYS."""
    unused_since = time.time() - current_app.config["BADGE_CACHE_RETENTION_DAYS"] * 86400
    return BadgeCache(badge_cache_dir()).prune(unused_since)


def _sort_key(registration: Registration) -> tuple[str, str]:
    return fold(registration.last_name), fold(registration.first_name)


def check_export_parameters(event_id: int, *, status: str | None, session_id: int | None, layout: str) -> None:
    if layout not in LAYOUTS:
        raise BadgeRequestError(f"unknown layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    if status not in (None, "all", *STATUSES):
        raise BadgeRequestError(f"unknown status {status!r}: choose one of all, {', '.join(STATUSES)}")
    if session_id is not None:
        session = db.session.get(Session, session_id)
        if session is None or session.event_id != event_id:
            raise BadgeRequestError(f"session {session_id} is not part of this event")


def select_registrations(event_id: int, *, registration_ids: Iterable[int] | None = None,
                         status: str | None = "confirmed", session_id: int | None = None) -> list[Registration]:
    """The registrants whose badges to print, sorted by family then given name (accents ignored).

    Filters combine: `registration_ids` (None: all), `status` (None or "all": any), `session_id`
    (registrants holding a confirmed seat in that session).
    """
    query = (
        select(Registration)
        .where(Registration.event_id == event_id, Registration.anonymised_at.is_(None))
        .options(
            selectinload(Registration.seats).selectinload(SessionSeat.session),
            selectinload(Registration.category),
        )
    )
    if registration_ids is not None:
        query = query.where(Registration.id.in_(list(registration_ids)))
    if status not in (None, "all"):
        query = query.where(Registration.status == RegistrationStatus(status))
    if session_id is not None:
        query = query.where(Registration.seats.any(
            (SessionSeat.session_id == session_id) & (SessionSeat.status == SeatStatus.confirmed)
        ))
    return sorted(db.session.scalars(query), key=_sort_key)


def export_badges(event_id: int, *, registration_ids: Iterable[int] | None = None, status: str | None = "confirmed",
                  session_id: int | None = None, layout: str = "a4-4", locale: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> tuple[bytes, int]:
    """The chosen registrants' badges as one PDF, and how many: rendered in parallel, cached per badge."""
    from seminar.badges.pool import render_badges
    from seminar.badges.render import log_harfbuzz_subset_status

    check_export_parameters(event_id, status=status, session_id=session_id, layout=layout)
    event = db.session.get(Event, event_id)
    if event is None:
        raise BadgeRequestError(f"no event {event_id}")
    registrations = select_registrations(event_id, registration_ids=registration_ids, status=status,
                                         session_id=session_id)
    badges = [badge_data(registration, locale=locale) for registration in registrations]
    db.session.rollback()  # end the read transaction (it wrote nothing): rendering takes a while, needs no database
    log_harfbuzz_subset_status()
    workers = current_app.config.get("BADGE_RENDER_PROCESSES") or None
    pdf = render_badges(badges, layout, cache_dir=badge_cache_dir(), workers=workers, progress=progress)
    return pdf, len(badges)


def export_file_name(slug: str, layout: str) -> str:
    return f"badges-{slug}-{layout}.pdf"


def start_badge_export(event_id: int, *, registration_ids: Iterable[int] | None = None,
                       status: str | None = "confirmed", session_id: int | None = None, layout: str = "a4-4",
                       user_id: int | None = None) -> int:
    """Queues a badge export as a background job (run by `flask worker`); returns the job id.

    Raises BadgeRequestError for an unknown layout or status, or a session of another event.
    """
    if db.session.get(Event, event_id) is None:
        raise BadgeRequestError(f"no event {event_id}")
    check_export_parameters(event_id, status=status, session_id=session_id, layout=layout)
    params = {
        "registration_ids": sorted({int(value) for value in registration_ids}) if registration_ids is not None
        else None,
        "status": status, "session_id": session_id, "layout": layout,
    }
    return enqueue_job("badge_export", params, event_id=event_id, user_id=user_id)


def run_badge_export(context: JobContext) -> JobResult:
    """Job handler for "badge_export" (see seminar.jobs.services.JOB_HANDLERS)."""
    params = context.params
    event = db.session.get(Event, context.event_id)
    if event is None:
        raise BadgeRequestError("the event no longer exists")
    slug = event.slug
    pdf, _count = export_badges(
        event.id, registration_ids=params.get("registration_ids"), status=params.get("status"),
        session_id=params.get("session_id"), layout=params.get("layout", "a4-4"), progress=context.progress,
    )
    return JobResult(pdf, export_file_name(slug, params.get("layout", "a4-4")), "application/pdf")


def registration_badge_pdf(registration: Registration, layout: str = "a6") -> bytes:
    """One registrant's badge alone on a page of the badge's size, in their language (cached)."""
    from seminar.badges.pool import render_badge_pdf

    badge = badge_data(registration, locale=registration.locale or None)
    return render_badge_pdf(badge, layout, cache_dir=badge_cache_dir())


def own_badge_pdf(registration: Registration) -> bytes | None:
    """A registrant's own badge (A6); None unless their registration is confirmed."""
    if registration.status is not RegistrationStatus.confirmed or registration.anonymised_at:
        return None
    return registration_badge_pdf(registration)
