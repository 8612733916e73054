"""Editing the programme: events, venue and rooms, sessions, speakers and their roles.

Each function owns its transaction (`write_transaction`): it validates, changes, records an audit entry and
commits. Refusals raise `ProgrammeError` with one message per field, for the form that asked.
Typed texts are cleaned first (`seminar.text`: one line, or LF line breaks in descriptions, notes and bios).
A change of a session's time, room or title raises `Session.sequence` (`_announce_session`, the one place that
does) and is announced (`signals.session_changed`; the calendar area queues updated invites in the same
transaction); so are a capacity raised (`signals.capacity_raised`: the waiting list moves up into the new
places) and the changes of the event's own invite. This module imports no calendar or registration code.
Organisers decide whether a change is told: `notify=False` saves it silently (SEQUENCE still rises, so a later
update supersedes), and `notify=None` raises NotificationChoice, before saving, when someone would be told.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.events import signals
from seminar.events.models import (
    Event,
    Room,
    Session,
    SessionKind,
    SessionSpeaker,
    Speaker,
    SpeakerRole,
    Venue,
    registration_outlasts_event,
)
from seminar.extensions import db, utcnow
from seminar.text import RefusedText, clean_text, fold

PHOTO_MAX_BYTES = 2 * 1024 * 1024
# Accepted on upload; also served, for photos stored before they were re-encoded.
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Magic numbers checked before Pillow parses anything.
PHOTO_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF")
# Checked on the header, before decoding: a 24-megapixel camera (6000 × 4000) passes; a small file that
# decodes to more is a decompression bomb.
PHOTO_MAX_PIXELS = 24_000_000
# Stored photos are re-encoded to at most this many pixels on their long side (pages show them far smaller).
PHOTO_MAX_SIDE = 1024
PHOTO_JPEG_QUALITY = 85


class ProgrammeError(ValueError):
    """A refused change; `problems` maps a field name ('' for the whole form) to a message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in problems.items()))
        self.problems = problems


class NotificationChoice(Exception):
    """A change that registrants were sent (a time, a place, a title) and that `people` registrants would be told
    of: the organiser chooses first (`notify=True` or `False`); nothing was saved."""

    def __init__(self, people: int):
        super().__init__(f"{people} registrants would be told of this change")
        self.people = people


# Whether the change being saved tells registrants (set by the service for its transaction).
_NOTIFYING: ContextVar[bool] = ContextVar("seminar.programme.notifying", default=True)


@contextmanager
def _notifying(notify: bool):
    token = _NOTIFYING.set(notify)
    try:
        yield
    finally:
        _NOTIFYING.reset(token)


def _ask_first(notify: bool | None, people: int) -> None:
    """Raise NotificationChoice when the organiser has not chosen and someone would be told."""
    if notify is None and people:
        raise NotificationChoice(people)


@dataclass
class EventDetails:
    slug: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "Europe/Paris"
    subtitle: str = ""
    description: str = ""
    organiser: str = ""
    contact_email: str = ""
    title_en: str = ""
    subtitle_en: str = ""
    description_en: str = ""
    organiser_en: str = ""
    invitation_only: bool = False
    capacity: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None  # None: when the event starts

    def __post_init__(self):
        if self.registration_closes_at is None:
            self.registration_closes_at = self.starts_at


@dataclass
class VenueDetails:
    name: str
    street_address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "France"
    access_notes: str = ""
    accessibility_notes: str = ""
    map_url: str = ""
    access_notes_en: str = ""
    accessibility_notes_en: str = ""


@dataclass
class SessionDetails:
    kind: SessionKind
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    title_en: str = ""
    description_en: str = ""
    room_id: int | None = None
    capacity: int | None = None
    position: int = 0


@dataclass
class SpeakerDetails:
    name: str
    title: str = ""
    affiliation: str = ""
    bio: str = ""
    is_organisation: bool = False
    title_en: str = ""
    bio_en: str = ""


def localise(moment: datetime, timezone: str) -> datetime:
    """A wall-clock time typed in the event's timezone, as an aware datetime."""
    return moment.replace(tzinfo=ZoneInfo(timezone)) if moment.tzinfo is None else moment


def changed_fields(obj, details) -> dict[str, list]:
    """Fields whose value differs, as {name: [old, new]} (JSON-friendly, for the audit log)."""
    changed = {}
    for f in fields(details):
        old, new = getattr(obj, f.name), getattr(details, f.name)
        if old != new:
            changed[f.name] = [_plain(old), _plain(new)]
    return changed


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def apply_details(obj, details) -> None:
    for f in fields(details):
        setattr(obj, f.name, getattr(details, f.name))


# The texts staff type, with the label their form shows. Cleaned as registrants' are (`seminar.text`): a Text
# column keeps line breaks and is bounded as its form bounds it; any other is one line, as long as its column.
_TEXTS = {
    EventDetails: (Event, {"title": _l("Title"), "subtitle": _l("Subtitle"), "description": _l("Description"),
                           "organiser": _l("Organiser"), "contact_email": _l("Contact e-mail"),
                           "title_en": _l("Title in English"), "subtitle_en": _l("Subtitle in English"),
                           "description_en": _l("Description in English"),
                           "organiser_en": _l("Organiser in English")}),
    VenueDetails: (Venue, {"name": _l("Name"), "street_address": _l("Street address"),
                           "postal_code": _l("Postal code"), "city": _l("City"), "country": _l("Country"),
                           "access_notes": _l("How to get there"), "accessibility_notes": _l("Accessibility"),
                           "map_url": _l("Map link"), "access_notes_en": _l("How to get there, in English"),
                           "accessibility_notes_en": _l("Accessibility, in English")}),
    SessionDetails: (Session, {"title": _l("Title"), "description": _l("Theme and description"),
                               "title_en": _l("Title in English"),
                               "description_en": _l("Theme and description in English")}),
    SpeakerDetails: (Speaker, {"name": _l("Name"), "title": _l("Title or function"),
                               "affiliation": _l("Affiliation"), "bio": _l("Biography"),
                               "title_en": _l("Function in English"), "bio_en": _l("Biography in English")}),
}
LONG_TEXT_LIMITS = {"description": 20_000, "access_notes": 5_000, "accessibility_notes": 5_000, "bio": 10_000}
LONG_TEXT_LIMITS.update({f"{name}_en": limit for name, limit in LONG_TEXT_LIMITS.items()})


def clean_texts(texts: dict[str, tuple]) -> dict[str, str]:
    """Each {name: (value, label, multiline, max_length)} cleaned by `seminar.text.clean_text`; raises
    ProgrammeError with every refused field at once, each message naming its field."""
    cleaned, problems = {}, {}
    for name, (value, label, multiline, max_length) in texts.items():
        try:
            cleaned[name] = clean_text(value, multiline=multiline, max_length=max_length)
        except RefusedText as refused:
            problems[name] = refused.message(label)
    if problems:
        raise ProgrammeError(problems)
    return cleaned


def _text(model, name: str, label, value: str | None) -> tuple:
    length = model.__table__.c[name].type.length  # None for Text
    return value, label, length is None, length or LONG_TEXT_LIMITS[name]


def _cleaned(details):
    """A copy of `details` with every typed text cleaned."""
    model, labels = _TEXTS[type(details)]
    return replace(details, **clean_texts({name: _text(model, name, label, getattr(details, name))
                                           for name, label in labels.items()}))


# Events ---------------------------------------------------------------------------------------------

def _check_event(details: EventDetails, event_id: int | None) -> None:
    problems = {}
    slug = details.slug.strip()
    if not slug or not all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in slug) or slug != slug.lower():
        problems["slug"] = _("Use lower-case letters, digits and hyphens only.")
    elif db.session.scalar(select(Event.id).where(Event.slug == slug, Event.id != (event_id or 0))):
        problems["slug"] = _("Another event already uses this address.")
    try:
        ZoneInfo(details.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = _("Unknown time zone.")
    if details.ends_at <= details.starts_at:
        problems["ends_at"] = _("The end must come after the start.")
    if details.capacity is not None and details.capacity < 0:
        problems["capacity"] = _("The capacity cannot be negative.")
    opens, closes = details.registration_opens_at, details.registration_closes_at
    if opens and closes <= opens:
        problems["registration_closes_at"] = _("Registration must close after it opens.")
    elif "ends_at" not in problems and registration_outlasts_event(closes, details.ends_at):
        problems["registration_closes_at"] = _("Registration cannot close after the event ends.")
    if problems:
        raise ProgrammeError(problems)


def create_event(details: EventDetails) -> Event:
    details = _cleaned(details)
    with write_transaction():
        _check_event(details, None)
        event = Event()
        apply_details(event, details)
        db.session.add(event)
        db.session.flush()
        record("event.create", event_id=event.id, target_type="event", target_id=event.id,
               details={"slug": event.slug, "title": event.title})
    return event


def update_event(event_id: int, details: EventDetails, *, notify: bool | None = True) -> Event:
    """Refuses an event capacity below the confirmed count; a raised capacity promotes from the waiting list
    (`signals.capacity_raised`, in this transaction). A change of what the invites show tells the registrants
    (`notify`; None: raise NotificationChoice first when someone would be told)."""
    details = _cleaned(details)
    with write_transaction(), _notifying(bool(notify)):
        event = _lock_event(event_id)
        _check_event(details, event_id)
        _check_capacity(details.capacity, event.confirmed_count)
        raised = _raised(event.capacity, details.capacity)
        changed = changed_fields(event, details)
        event_invite = bool(changed.keys() & _EVENT_INVITE_FIELDS)
        session_invites = bool(changed.keys() & _SESSION_INVITE_FIELDS)
        if event_invite or session_invites:
            _ask_first(notify, event.confirmed_count)
        apply_details(event, details)
        if changed:
            record("event.update", event_id=event.id, target_type="event", target_id=event.id,
                   details={**changed, **({"notified": False} if notify is False else {})})
        _update_invites(event, event_invite=event_invite, session_invites=session_invites)
        if raised:
            db.session.flush()
            signals.capacity_raised.send(event_id=event.id, session_id=None)
    return event


def set_organiser_logo(event_id: int, logo: bytes | None) -> None:
    """Store the organiser's logo (an uploaded image, checked and re-encoded as speaker photos are), or remove it
    (None). The pages and badges show it; nothing is sent to the registrants."""
    try:
        prepared = prepare_photo(logo) if logo else (None, None)
    except ProgrammeError as refused:
        raise ProgrammeError({"logo": refused.problems["photo"]}) from None
    with write_transaction():
        event = db.session.get(Event, event_id)
        event.organiser_logo, event.organiser_logo_mimetype = prepared
        record("event.update", event_id=event_id, target_type="event", target_id=event_id,
               details={"logo": "new" if logo else "removed"})


def delete_event(event_id: int) -> None:
    """Delete the event and everything in it; before it has ended, its registrants' invites are cancelled."""
    with write_transaction():
        event = db.session.get(Event, event_id)
        if event.ends_at > utcnow():  # a past event stays in calendars as it was
            _cancel_invites(event)
        record("event.delete", target_type="event", target_id=event_id,
               details={"slug": event.slug, "title": event.title})
        db.session.delete(event)


# Venue and rooms ------------------------------------------------------------------------------------

def save_venue(event_id: int, details: VenueDetails, *, notify: bool | None = True) -> Venue:
    """Create or change the event's venue; a new address tells the registrants (`notify`, as `update_event`)."""
    details = _cleaned(details)
    with write_transaction(), _notifying(bool(notify)):
        if not details.name.strip():
            raise ProgrammeError({"name": _("The venue needs a name.")})
        venue = db.session.scalar(select(Venue).where(Venue.event_id == event_id))
        created = venue is None
        if created:
            venue = Venue(event_id=event_id)
            db.session.add(venue)
        changed = changed_fields(venue, details) if not created else {"name": [None, details.name]}
        location = None if created else venue.one_line
        apply_details(venue, details)
        if location is not None and venue.one_line != location:  # rolled back if the organiser must choose
            _ask_first(notify, db.session.scalar(select(Event.confirmed_count).where(Event.id == event_id)))
        db.session.flush()
        if changed:
            record("venue.update", event_id=event_id, target_type="venue", target_id=venue.id, details=changed)
        if venue.one_line != location:  # every invite shows where
            _update_invites(db.session.get(Event, event_id), event_invite=True, session_invites=True)
    return venue


def save_room(event_id: int, name: str, capacity: int | None, room_id: int | None = None) -> Room:
    name = clean_texts({"name": _text(Room, "name", _l("Room name"), name)})["name"]
    with write_transaction():
        venue = db.session.scalar(select(Venue).where(Venue.event_id == event_id))
        if venue is None:
            raise ProgrammeError({"": _("Describe the venue before adding rooms.")})
        name = name.strip()
        if not name:
            raise ProgrammeError({"name": _("The room needs a name.")})
        if capacity is not None and capacity < 0:
            raise ProgrammeError({"capacity": _("The capacity cannot be negative.")})
        clash = select(Room.id).where(Room.venue_id == venue.id, Room.name == name, Room.id != (room_id or 0))
        if db.session.scalar(clash):
            raise ProgrammeError({"name": _("This venue already has a room with this name.")})
        room = _owned(Room, room_id, event_id) if room_id else Room(venue=venue)
        old_name = room.name
        room.name, room.capacity = name, capacity
        db.session.add(room)
        db.session.flush()
        record("room.update" if room_id else "room.create", event_id=event_id, target_type="room", target_id=room.id,
               details={"name": [old_name, name]} if room_id else {"name": name})
        if room_id and old_name != name:
            # The room's name is in every invite of the sessions held there.
            for session in db.session.scalars(select(Session).where(Session.room_id == room.id)):
                _announce_session(session)
    return room


def delete_room(event_id: int, room_id: int) -> None:
    with write_transaction():
        room = _owned(Room, room_id, event_id)
        sessions = list(db.session.scalars(select(Session).where(Session.room_id == room.id)))
        for session in sessions:
            session.room = None
            _announce_session(session)
        record("room.delete", event_id=event_id, target_type="room", target_id=room.id, details={"name": room.name})
        db.session.delete(room)


# Sessions -------------------------------------------------------------------------------------------

def _session_problems(event: Event, details: SessionDetails, session_id: int | None) -> dict[str, str]:
    problems = {}
    if not details.title.strip():
        problems["title"] = _("The session needs a title.")
    if details.ends_at <= details.starts_at:
        problems["ends_at"] = _("The session must end after it starts.")
    first_day = datetime.combine(event.local(event.starts_at).date(), time.min, tzinfo=event.tz)
    after_last_day = datetime.combine(event.local(event.ends_at).date() + timedelta(days=1), time.min, tzinfo=event.tz)
    if not (first_day <= details.starts_at and details.ends_at <= after_last_day):
        problems.setdefault("starts_at", _("The session must take place within the event's day(s)."))
    if details.capacity is not None and details.capacity < 0:
        problems["capacity"] = _("The capacity cannot be negative.")
    if details.room_id is not None:
        room = _owned(Room, details.room_id, event.id, missing=None)
        if room is None:
            problems["room_id"] = _("Choose a room of this event's venue.")
        elif "ends_at" not in problems:
            clash = db.session.scalars(
                select(Session).where(
                    Session.room_id == details.room_id,
                    Session.id != (session_id or 0),
                    Session.starts_at < details.ends_at,
                    Session.ends_at > details.starts_at,
                ).order_by(Session.starts_at)
            ).first()
            if clash is not None:
                problems["room_id"] = _(
                    "The room is already used by “%(title)s” from %(start)s to %(end)s.",
                    title=clash.title, start=event.local(clash.starts_at).strftime("%H:%M"),
                    end=event.local(clash.ends_at).strftime("%H:%M"))
    return problems


def _check_capacity(capacity: int | None, confirmed: int) -> None:
    if capacity is not None and capacity < confirmed:
        raise ProgrammeError({"capacity": _(
            "%(num)d people are already confirmed: the capacity cannot be lower than %(num)d. "
            "Cancel registrations first if places must be removed.", num=confirmed)})


def _raised(old: int | None, new: int | None) -> bool:
    return old is not None and (new is None or new > old)


def create_session(event_id: int, details: SessionDetails, *, speakers: Sequence[SpeakerLine] = ()) -> Session:
    """Validates and saves a new session with its `speakers` (rows naming nobody are skipped), in one transaction."""
    details, speakers = _cleaned_session(details, speakers)
    with write_transaction():
        event = db.session.get(Event, event_id)
        people = _checked_session(event, details, None, speakers)
        session = Session(event_id=event_id)
        apply_details(session, details)
        db.session.add(session)
        db.session.flush()
        record("session.create", event_id=event_id, target_type="session", target_id=session.id,
               details={"title": session.title, "starts_at": session.starts_at.isoformat()})
        _save_speakers(session, people)
    return session


def update_session(session_id: int, details: SessionDetails, *, notify: bool | None = True,
                   speakers: Sequence[SpeakerLine] = ()) -> Session:
    """Validates and saves a session. Time, room or title changes raise its sequence and queue calendar
    updates; capacity cannot drop below the confirmed seats, and a raise promotes from the waiting list
    (`signals.capacity_raised`, in this transaction). `notify` as in `update_event`: its confirmed attendees.
    `speakers`: rows to add, change (`role`, `position`) or take off (`remove`); speakers of the session that no
    row names stay as they are. As with `set_speaker_role`, a change of speakers alone is not announced (the
    invites list them, but only a time, room or title change is sent); an update sent with it shows them."""
    details, speakers = _cleaned_session(details, speakers)
    with write_transaction(), _notifying(bool(notify)):
        event_id = db.session.scalar(select(Session.event_id).where(Session.id == session_id))
        event = _lock_event(event_id)
        session = db.session.scalar(select(Session).where(Session.id == session_id).with_for_update(key_share=True)
                                    .execution_options(populate_existing=True))
        people = _checked_session(event, details, session_id, speakers)
        _check_capacity(details.capacity, session.confirmed_count)
        raised = _raised(session.capacity, details.capacity)
        changed = changed_fields(session, details)
        announced = bool(changed.keys() & {"starts_at", "ends_at", "room_id", "title", "title_en"})
        if announced:
            _ask_first(notify, session.confirmed_count)
        apply_details(session, details)
        _save_speakers(session, people)  # before the announcement: the updated invites list the speakers
        if announced:
            db.session.flush()
            _announce_session(session)
        if changed:
            record("session.update", event_id=event.id, target_type="session", target_id=session.id,
                   details={**changed, **({"notified": False} if notify is False and announced else {})})
        if raised:
            db.session.flush()
            signals.capacity_raised.send(event_id=event.id, session_id=session.id)
    return session


# A session's speakers, as its form's rows give them ---------------------------------------------------

@dataclass
class SpeakerLine:
    """One row of a session's speakers: a speaker of the event (`speaker_id`) or a new person (`name`, with their
    function `title` and `affiliation`), their `role` and `position` in the session; `remove` takes them off."""

    speaker_id: int | None
    name: str = ""
    title: str = ""
    affiliation: str = ""
    role: SpeakerRole = SpeakerRole.speaker
    position: int = 0
    remove: bool = False


_LINE_TEXTS = ("name", "title", "affiliation")


def _line_key(index: int, name: str) -> str:
    """Where a row's problem is shown: "speakers-1-name" (the row's place in the list given, from 0)."""
    return f"speakers-{index}-{name}"


def _cleaned_session(details: SessionDetails, speakers: Sequence[SpeakerLine]
                     ) -> tuple[SessionDetails, list[SpeakerLine]]:
    """`details` and the rows with their typed texts cleaned; every refused text of both at once."""
    problems = {}
    try:
        details = _cleaned(details)
    except ProgrammeError as refused:
        problems.update(refused.problems)
    labels = _TEXTS[SpeakerDetails][1]
    texts = {_line_key(i, name): _text(Speaker, name, labels[name], getattr(line, name))
             for i, line in enumerate(speakers) for name in _LINE_TEXTS}
    try:
        cleaned = clean_texts(texts)
    except ProgrammeError as refused:
        problems.update(refused.problems)
    if problems:
        raise ProgrammeError(problems)
    return details, [replace(line, **{name: cleaned[_line_key(i, name)] for name in _LINE_TEXTS})
                     for i, line in enumerate(speakers)]


def _checked_session(event: Event, details: SessionDetails, session_id: int | None,
                     speakers: list[SpeakerLine]) -> list[tuple[SpeakerLine, Speaker | None]]:
    """The session's problems and its rows' at once (ProgrammeError), else each row naming someone with its
    speaker (None: a new person to create)."""
    problems = _session_problems(event, details, session_id)
    people, row_problems = _people_of(event.id, speakers)
    problems.update(row_problems)
    if problems:
        raise ProgrammeError(problems)
    return people


def _people_of(event_id: int, speakers: list[SpeakerLine]
               ) -> tuple[list[tuple[SpeakerLine, Speaker | None]], dict[str, str]]:
    """Each row naming someone, with the speaker it names: a speaker of the event, chosen or named (case and
    accents ignored), or None for a new person; and the rows' problems. A row naming nobody is skipped."""
    by_name = {fold(s.name): s for s in db.session.scalars(select(Speaker).where(Speaker.event_id == event_id))}
    people, problems, seen = [], {}, set()
    for i, line in enumerate(speakers):
        if line.speaker_id is None and not line.name:
            if line.title or line.affiliation:
                problems[_line_key(i, "name")] = _("Type the new person's name, or choose a speaker of the event.")
            continue
        if line.speaker_id is not None and line.name:
            problems[_line_key(i, "name")] = _("Choose a speaker of the event or type a new person, not both.")
            continue
        field = "speaker_id" if line.speaker_id is not None else "name"
        speaker = (_owned(Speaker, line.speaker_id, event_id, missing=None) if line.speaker_id is not None
                   else by_name.get(fold(line.name)))
        if line.speaker_id is not None and speaker is None:
            problems[_line_key(i, field)] = _("Choose a speaker of this event.")
            continue
        who = speaker.id if speaker is not None else fold(line.name)
        if who in seen:
            problems[_line_key(i, field)] = _("This speaker is already on another row.")
            continue
        seen.add(who)
        people.append((line, speaker))
    return people, problems


def _save_speakers(session: Session, people: list[tuple[SpeakerLine, Speaker | None]]) -> None:
    """Create the new people, then add, change or take off each row's speaker in `session`, with an audit entry
    per change (as `save_speaker`, `set_speaker_role` and `remove_speaker_role` record them)."""
    if not people:
        return
    links = {link.speaker_id: link for link in session.speaker_links}
    for line, speaker in people:
        link = links.get(speaker.id) if speaker is not None else None
        if line.remove:
            if link is not None:
                record("session.speaker_removed", event_id=session.event_id, target_type="session",
                       target_id=session.id, details={"speaker": speaker.name})
                session.speaker_links.remove(link)
            continue
        if speaker is None:
            speaker = Speaker(event_id=session.event_id, name=line.name, title=line.title,
                              affiliation=line.affiliation)
            db.session.add(speaker)
            db.session.flush()
            record("speaker.create", event_id=session.event_id, target_type="speaker", target_id=speaker.id,
                   details={"name": speaker.name})
        if link is None:
            link = SessionSpeaker(session=session, speaker=speaker)
            db.session.add(link)
        elif (link.role, link.position) == (line.role, line.position):
            continue
        link.role, link.position = line.role, line.position
        record("session.speaker", event_id=session.event_id, target_type="session", target_id=session.id,
               details={"speaker": speaker.name, "role": line.role.value})
    db.session.flush()
    db.session.expire(session, ["speaker_links"])  # read again in the programme's order (role, position)


def delete_session(event_id: int, session_id: int) -> None:
    with write_transaction():
        session = _owned(Session, session_id, event_id)
        _announce_session(session, deleted=True)
        record("session.delete", event_id=event_id, target_type="session", target_id=session.id,
               details={"title": session.title})
        db.session.delete(session)


# Speakers -------------------------------------------------------------------------------------------

def prepare_photo(data: bytes) -> tuple[bytes, str]:
    """A speaker photo as stored: (image, MIME type), re-encoded from an upload (or an imported event).

    Refuses anything that is not a JPEG, PNG, WebP or GIF image that decodes, and images of more than
    PHOTO_MAX_PIXELS. What is kept is the picture alone, turned upright as its EXIF orientation says, at
    most PHOTO_MAX_SIDE pixels on its long side, without any metadata (EXIF with its GPS position, XMP,
    comments, colour profile): a JPEG, or a PNG when it has transparency. An animated image keeps its
    first frame.
    """
    from PIL import Image

    if len(data) > PHOTO_MAX_BYTES:
        raise ProgrammeError({"photo": _("The photo is too large (at most %(num)d MB).",
                                         num=PHOTO_MAX_BYTES // (1024 * 1024))})
    if not data.startswith(PHOTO_SIGNATURES) or (data.startswith(b"RIFF") and data[8:12] != b"WEBP"):
        raise ProgrammeError({"photo": _("The photo must be a JPEG, PNG, WebP or GIF image.")})
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in PHOTO_FORMATS:
                raise ProgrammeError({"photo": _("The photo must be a JPEG, PNG, WebP or GIF image.")})
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise _too_many_pixels()
            return _reencoded(image)
    except ProgrammeError:
        raise
    except Image.DecompressionBombError:  # Pillow's own, higher limit, met when opening
        raise _too_many_pixels() from None
    except Exception:  # whatever a broken or hostile file makes the decoders raise
        raise ProgrammeError({"photo": _("The photo could not be read as an image.")}) from None


def _too_many_pixels() -> ProgrammeError:
    return ProgrammeError({"photo": _("The photo has too many pixels (at most %(num)d megapixels).",
                                      num=PHOTO_MAX_PIXELS // 1_000_000)})


def _reencoded(image) -> tuple[bytes, str]:
    from PIL import Image, ImageOps

    scale = PHOTO_MAX_SIDE / max(image.size)
    if scale < 1:  # a JPEG is decoded at 1/2, 1/4 or 1/8 of its size when that leaves enough pixels
        image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if transparent else "L" if image.mode in ("1", "L") else "RGB"
    ImageOps.exif_transpose(image, in_place=True)  # decodes the (first) frame when it turns it
    if image.mode in ("1", "P", "PA") or "transparency" in image.info:  # else resizing picks the nearest pixels
        image = image.convert(mode)
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)  # before converting: less memory
    image = image.convert(mode)
    if transparent and image.getchannel("A").getextrema()[0] == 255:  # an alpha channel, all opaque
        image, transparent = image.convert("RGB"), False
    image.info = {}  # nothing of the original file's metadata travels into the new one
    output = io.BytesIO()
    if transparent:
        image.save(output, "PNG", optimize=True)
        return output.getvalue(), PHOTO_FORMATS["PNG"]
    image.save(output, "JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    return output.getvalue(), PHOTO_FORMATS["JPEG"]


def save_speaker(event_id: int, details: SpeakerDetails, *, speaker_id: int | None = None,
                 photo: bytes | None = None, remove_photo: bool = False) -> Speaker:
    details = _cleaned(details)
    with write_transaction():
        if not details.name.strip():
            raise ProgrammeError({"name": _("The speaker needs a name.")})
        photo, mimetype = prepare_photo(photo) if photo else (None, None)
        speaker = _owned(Speaker, speaker_id, event_id) if speaker_id else Speaker(event_id=event_id)
        changed = changed_fields(speaker, details) if speaker_id else {"name": details.name}
        apply_details(speaker, details)
        if photo:
            speaker.photo, speaker.photo_mimetype = photo, mimetype
            changed["photo"] = "new"
        elif remove_photo:
            speaker.photo, speaker.photo_mimetype = None, None
            changed["photo"] = "removed"
        db.session.add(speaker)
        db.session.flush()
        record("speaker.update" if speaker_id else "speaker.create", event_id=event_id, target_type="speaker",
               target_id=speaker.id, details=changed)
    return speaker


def delete_speaker(event_id: int, speaker_id: int) -> None:
    with write_transaction():
        speaker = _owned(Speaker, speaker_id, event_id)
        record("speaker.delete", event_id=event_id, target_type="speaker", target_id=speaker.id,
               details={"name": speaker.name})
        db.session.delete(speaker)


def set_speaker_role(event_id: int, session_id: int, speaker_id: int, role: SpeakerRole, position: int = 0
                     ) -> SessionSpeaker:
    """Adds the speaker to the session with `role`, or changes their role there."""
    with write_transaction():
        session = _owned(Session, session_id, event_id)
        speaker = _owned(Speaker, speaker_id, event_id, missing=None)
        if speaker is None:
            raise ProgrammeError({"speaker_id": _("Choose a speaker of this event.")})
        link = db.session.scalar(select(SessionSpeaker).where(
            SessionSpeaker.session_id == session.id, SessionSpeaker.speaker_id == speaker.id))
        if link is None:
            link = SessionSpeaker(session=session, speaker=speaker)
            db.session.add(link)
        link.role, link.position = role, position
        db.session.flush()
        record("session.speaker", event_id=event_id, target_type="session", target_id=session.id,
               details={"speaker": speaker.name, "role": role.value})
    return link


def remove_speaker_role(event_id: int, link_id: int) -> None:
    with write_transaction():
        link = db.session.get(SessionSpeaker, link_id)
        if link is None or link.session.event_id != event_id:
            raise ProgrammeError({"": _("This speaker is not in this session.")})
        record("session.speaker_removed", event_id=event_id, target_type="session", target_id=link.session_id,
               details={"speaker": link.speaker.name})
        db.session.delete(link)


# Helpers --------------------------------------------------------------------------------------------

_MISSING = object()


def _owned(model, object_id: int | None, event_id: int, missing=_MISSING):
    """The object of `model` with this id belonging to the event; else `missing` or a ProgrammeError."""
    obj = db.session.get(model, object_id) if object_id else None
    owner = None
    if isinstance(obj, Room):
        owner = obj.venue.event_id
    elif obj is not None:
        owner = obj.event_id
    if obj is None or owner != event_id:
        if missing is not _MISSING:
            return missing
        raise ProgrammeError({"": _("This item does not belong to this event.")})
    return obj


# What the event's own invite shows (seminar.ical.calendar.event_invite), and what the round tables' invites
# show of the event (its address in their links, its organiser, its time zone); the venue is on both.
_EVENT_INVITE_FIELDS = frozenset({"slug", "title", "subtitle", "description", "starts_at", "ends_at", "timezone",
                                  "organiser", "contact_email", "title_en", "subtitle_en", "description_en",
                                  "organiser_en"})
_SESSION_INVITE_FIELDS = frozenset({"slug", "timezone", "organiser", "contact_email", "organiser_en"})


def _update_invites(event: Event, *, event_invite: bool, session_invites: bool) -> None:
    """Announce the calendar updates that a change of the event (or its venue) calls for, in this transaction."""
    if event_invite and _NOTIFYING.get():
        signals.event_changed.send(event=event)
    if session_invites:
        for session in event.sessions:
            _announce_session(session)


def _cancel_invites(event: Event) -> None:
    signals.event_cancelled.send(event=event)
    for session in event.sessions:
        _announce_session(session, deleted=True)


def _announce_session(session: Session, *, deleted: bool = False) -> None:
    """What registrants were sent of `session` changed (or it is being deleted): raise its SEQUENCE, the one place
    that does, so that calendars take the next invite as newer, and tell the subscribers."""
    session.sequence += 1
    if deleted or _NOTIFYING.get():  # a deletion always tells who held a seat
        (signals.session_deleted if deleted else signals.session_changed).send(session=session)


def _lock_event(event_id: int) -> Event:
    """The event's row, locked as the seat ledger locks it (the event first, then its sessions), so that the
    confirmed counts read here stay true until the commit."""
    return db.session.scalar(select(Event).where(Event.id == event_id).with_for_update(key_share=True)
                             .execution_options(populate_existing=True))
