"""What a badge shows, as plain picklable values: `BadgeData`, and `badge_data()` to read it from the database.

A `BadgeData` is all the renderer gets (it reads no model), what worker processes receive, and what the
cache key of a rendered badge is computed from (see `seminar.badges.cache`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

DEFAULT_CATEGORY_COLOUR = "#555555"


@dataclass(frozen=True)
class RoundTable:
    time: str
    title: str


@dataclass(frozen=True)
class BadgeData:
    """Everything a badge shows, as plain text: what the cache key is computed from."""

    registration_id: int
    locale: str
    event_title: str
    event_date: str
    first_name: str
    last_name: str
    organisation: str
    category_label: str
    category_colour: str
    checkin_code: str
    round_tables_heading: str = ""
    round_tables: tuple[RoundTable, ...] = field(default_factory=tuple)
    organiser_logo: str = ""  # a data: URL, or empty
    job_title: str = ""
    role_label: str = ""  # the ribbon: speaker, moderator, organiser, press, staff (empty for attendees)


def badge_data(registration, *, locale: str | None = None) -> BadgeData:
    """Everything `registration`'s badge shows (needs an app context: secret key and translations).

    The round tables are those in which the registrant holds a confirmed seat.
    """
    # Imported here: rendering processes unpickle BadgeData from this module and need none of these.
    from flask import current_app
    from flask_babel import force_locale, gettext

    from seminar.badges.codes import make_checkin_code
    from seminar.events.models import SessionKind
    from seminar.formatting import local_date, local_time
    from seminar.registration.models import BadgeRole, SeatStatus, badge_role_label

    locale = locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    event = registration.event
    seats = [
        seat for seat in registration.seats
        if seat.status is SeatStatus.confirmed and seat.session.kind is SessionKind.round_table
    ]
    seats.sort(key=lambda seat: (seat.session.starts_at, seat.session.position))
    tables = tuple(
        RoundTable(local_time(seat.session.starts_at, event.timezone, locale), seat.session.text("title", locale))
        for seat in seats
    )
    category = registration.category
    with force_locale(locale):
        heading = gettext("Round tables") if tables else ""
        role = registration.badge_role
        role_label = badge_role_label(role) if role and role is not BadgeRole.attendee else ""
    return BadgeData(
        registration_id=registration.id,
        locale=locale,
        event_title=event.text("title", locale),
        event_date=local_date(event.starts_at, event.timezone, "long", locale),
        first_name=registration.first_name.strip(),
        last_name=registration.last_name.strip(),
        organisation=(registration.organisation or "").strip(),
        category_label=category.label_for(locale) if category else "",
        category_colour=category.colour if category else DEFAULT_CATEGORY_COLOUR,
        checkin_code=make_checkin_code(registration),
        round_tables_heading=heading,
        round_tables=tables,
        organiser_logo=_logo_url(event),
        job_title=(registration.job_title or "").strip(),
        role_label=role_label,
    )


def _logo_url(event) -> str:
    """The organiser's logo as a data: URL (badges load nothing from the network), made once per event."""
    if not event.organiser_logo_mimetype:
        return ""
    cached = _LOGO_URLS.get(event.id)
    if cached is None or cached[0] != event.updated_at:
        encoded = base64.b64encode(event.organiser_logo or b"").decode("ascii")
        cached = _LOGO_URLS[event.id] = (event.updated_at, f"data:{event.organiser_logo_mimetype};base64,{encoded}")
    return cached[1]


_LOGO_URLS: dict[int, tuple] = {}
