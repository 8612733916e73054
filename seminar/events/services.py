"""Reading the programme: an event with everything its public pages show, in a bounded number of queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from seminar.events.models import Event, Session, SessionSpeaker, Speaker, Venue
from seminar.events.programme import PHOTO_FORMATS
from seminar.extensions import db, utcnow

# What a page can ask `get_event` to preload, each in one query per relationship whatever the programme's size.
# A page loads only what it shows: loading every speaker and organisation for the venue page cost most of
# its time (bench/pages.py).
PARTS = {
    "venue": (joinedload(Event.venue),),
    "rooms": (joinedload(Event.venue).selectinload(Venue.rooms),),
    "sessions": (selectinload(Event.sessions),),
    "programme": (  # sessions with their room and speakers
        selectinload(Event.sessions).selectinload(Session.room),
        selectinload(Event.sessions).selectinload(Session.speaker_links).selectinload(SessionSpeaker.speaker),
    ),
    "speakers": (
        selectinload(Event.speakers).selectinload(Speaker.session_links).selectinload(SessionSpeaker.session),
    ),
    "categories": (selectinload(Event.categories),),
    "organisations": (selectinload(Event.organisations),),
    "press_contacts": (selectinload(Event.press_contacts),),
}
EVERYTHING = ("rooms", "programme", "speakers", "categories", "organisations", "press_contacts")


def get_event(slug: str, *parts: str) -> Event | None:
    """The event with the named `parts` (keys of PARTS) preloaded; with none named, everything (venue, rooms,
    sessions, speakers and lists), for callers that walk the whole event."""
    options = [option for part in (parts or EVERYTHING) for option in PARTS[part]]
    return db.session.scalar(select(Event).where(Event.slug == slug).options(*options))


def list_events() -> list[Event]:
    return list(db.session.scalars(select(Event).order_by(Event.starts_at.desc())))


def featured_event() -> Event | None:
    """The featured event that has not ended yet, else the next upcoming one."""
    now = utcnow()
    upcoming = select(Event).where(Event.ends_at >= now).order_by(Event.featured.desc(), Event.starts_at)
    return db.session.scalars(upcoming).first()


def speaker_photo(slug: str, speaker_id: int) -> tuple[bytes, str] | None:
    """(image, MIME type) of a speaker of the event `slug`, or None: no such speaker there, no photo, or a
    stored type the upload would not accept (never served as anything but an image)."""
    row = db.session.execute(
        select(Speaker.photo, Speaker.photo_mimetype).join(Event, Event.id == Speaker.event_id)
        .where(Event.slug == slug, Speaker.id == speaker_id)
    ).one_or_none()
    if row is None or not row.photo or row.photo_mimetype not in PHOTO_FORMATS.values():
        return None
    return row.photo, row.photo_mimetype


def organiser_logo(slug: str) -> tuple[bytes, str] | None:
    """(image, MIME type) of the organiser's logo of the event `slug`, or None."""
    row = db.session.execute(
        select(Event.organiser_logo, Event.organiser_logo_mimetype).where(Event.slug == slug)).one_or_none()
    if row is None or not row.organiser_logo or row.organiser_logo_mimetype not in PHOTO_FORMATS.values():
        return None
    return row.organiser_logo, row.organiser_logo_mimetype
