"""iCalendar output (RFC 5545) and iTIP invites (RFC 5546): model objects in, bytes out.

Pure: nothing here writes to the database. Text goes through the icalendar package, which escapes
it (`seminar.ical.folding` folds the lines as the package does, byte for byte, only faster); `_text`
and `_line` first turn every line break a parser might honour into a plain newline (escaped as `\\n`)
or a space, and drop other control characters, so nothing anybody types can start a property or a
component. Feeds reuse each session's serialised VEVENT within a process, keyed by everything it
shows (`_feed_vevent_ical`); the VTIMEZONE is serialised once per process.

UIDs are derived from ids and the host of BASE_URL, never from titles or times, so they stay the
same across requests, restarts and edits:
    programme/session feed  event-<e>-session-<s>@host
    invites, personal agenda  event-<e>[-session-<s>]-registration-<r>@host

SEQUENCE:
    feeds              Session.sequence (the back-office raises it on every change of time, room or title);
    event invite       Registration.ical_sequence;
    round-table invite Session.sequence + SessionSeat.ical_sequence.
Both terms only ever grow: the back-office raises Session.sequence for each change (and before a
deletion), `seminar.ical.notifications` raises the registrant's counter before each REQUEST or CANCEL
that the registrant's own actions cause (confirmation, promotion, cancellation). So every message
sent for a UID carries a SEQUENCE strictly higher than any sent before for that UID.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from icalendar import Calendar, vCalAddress, vDatetime, vInt, vText, vUri
from icalendar import Event as VEvent

from seminar.events.models import Event, Session, SpeakerRole, in_language
from seminar.ical.folding import to_ical
from seminar.ical.timezones import vtimezone, vtimezone_ical
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat

PRODID = "-//Seminar//Seminar calendar 1.0//EN"
REFRESH = timedelta(hours=1)  # how often subscribed clients should fetch a feed again

# Every character some parser treats as a line break (str.splitlines' set), and other controls but TAB.
_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


@dataclass(frozen=True)
class Site:
    """Where links and UIDs point: from BASE_URL, plus the organiser address used when an event has none."""

    base_url: str
    host: str
    fallback_organiser: str = ""

    @classmethod
    def from_config(cls, config) -> Site:
        base_url = str(config.get("BASE_URL") or "http://localhost").rstrip("/")
        host = urlsplit(base_url).hostname or "localhost"
        return cls(base_url, host, parseaddr(str(config.get("MAIL_FROM") or ""))[1])

    def event_url(self, event: Event) -> str:
        return f"{self.base_url}/events/{quote(event.slug)}/"

    def session_url(self, event: Event, session: Session) -> str:
        return f"{self.base_url}/events/{quote(event.slug)}/programme#session-{session.id}"

    def uid(self, event: Event, session: Session | None = None, registration: Registration | None = None) -> str:
        parts = [f"event-{event.id}"]
        if session is not None:
            parts.append(f"session-{session.id}")
        if registration is not None:
            parts.append(f"registration-{registration.id}")
        return f"{'-'.join(parts)}@{self.host}"


def _tr(obj, field: str) -> str:
    """A bilingual text in the language the calendar is written in (the reader's, or the registrant's)."""
    return in_language(obj, field, str(get_locale()))


def _text(value: str | None) -> str:
    """Multi-line text: every kind of line break becomes one newline (the library escapes it)."""
    return _CONTROLS.sub("", _BREAKS.sub("\n", value or "")).strip()


def _line(value: str | None) -> str:
    """One-line text (titles, names, places): line breaks become spaces."""
    return " ".join(_text(value).split())


# -- calendars -------------------------------------------------------------------------------------

def _calendar(event: Event, name: str, method: str | None = None) -> Calendar:
    """The VCALENDAR's own properties; `_assemble` adds the VTIMEZONE and the VEVENTs as bytes."""
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    else:  # a feed: named and refreshed by subscribing clients
        cal.add("name", _line(name))
        cal.add("x-wr-calname", _line(name))
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
    if vtimezone(event.timezone) is not None:
        cal.add("x-wr-timezone", event.timezone)
    return cal


def _assemble(event: Event, cal: Calendar, vevents: Iterable[bytes]) -> bytes:
    """`cal` with the event's VTIMEZONE (serialised once per process) and the serialised VEVENTs: the bytes
    `cal.to_ical(sorted=False)` writes with them added as subcomponents."""
    head = to_ical(cal)
    return b"".join([head[: -len(_END_VCALENDAR)], vtimezone_ical(event.timezone), *vevents, _END_VCALENDAR])


_END_VCALENDAR = b"END:VCALENDAR\r\n"


def _time(event: Event, moment: datetime) -> vDatetime:
    """Local time with a TZID when the zone has an RRULE VTIMEZONE, else UTC."""
    if vtimezone(event.timezone) is None:
        return vDatetime(moment.astimezone(UTC))
    value = vDatetime(event.local(moment).replace(tzinfo=None))  # naming the TZID spares a costly lookup
    value.params["TZID"] = event.timezone
    return value


def _status(event: Event) -> str:
    # The programme says times are indicative until confirmed: so does the calendar.
    return "CONFIRMED" if event.times_confirmed else "TENTATIVE"


def location_text(event: Event, session: Session | None = None) -> str:
    """Room, venue name and address on one line."""
    parts = [session.room.name if session is not None and session.room else ""]
    if event.venue is not None:
        parts.append(event.venue.one_line)
    return _line(", ".join(p for p in parts if p))


_ROLE_LABELS = {
    SpeakerRole.moderator: lambda n: ngettext("Moderator", "Moderators", n),
    SpeakerRole.chair: lambda n: ngettext("Chair", "Chairs", n),
    SpeakerRole.speaker: lambda n: ngettext("Speaker", "Speakers", n),
    SpeakerRole.panellist: lambda n: ngettext("Panellist", "Panellists", n),
}


def _people(session: Session) -> list[str]:
    """One line per role: "Moderator: Name, function (affiliation), …"."""
    by_role: dict[SpeakerRole, list[str]] = {}
    for link in session.speaker_links:
        speaker = link.speaker
        by_role.setdefault(link.role, []).append(_line(speaker.credit(str(get_locale()))))
    return [_("%(role)s: %(names)s", role=label(len(by_role[role])), names=", ".join(by_role[role]))
            for role, label in _ROLE_LABELS.items() if role in by_role]


def _session_description(session: Session, url: str) -> str:
    blocks = [_text(_tr(session, "description")), "\n".join(_people(session)), url]
    return "\n\n".join(b for b in blocks if b)


def _event_description(event: Event, url: str) -> str:
    texts = (_line(_tr(event, "subtitle")), _text(_tr(event, "description")), url)
    return "\n\n".join(b for b in texts if b)


def _vevent(event: Event, *, uid: str, sequence: int, dtstamp: datetime, starts_at: datetime, ends_at: datetime,
            summary: str, description: str, location: str, url: str, status: str | None) -> VEvent:
    # Typed values set directly: the same output as Component.add(), at half the cost (see bench/ical.py).
    vevent = VEvent()
    vevent["UID"] = vText(uid)
    vevent["DTSTAMP"] = vDatetime(dtstamp.astimezone(UTC))
    vevent["SEQUENCE"] = vInt(sequence)
    vevent["DTSTART"] = _time(event, starts_at)
    vevent["DTEND"] = _time(event, ends_at)
    vevent["SUMMARY"] = vText(summary)
    vevent["DESCRIPTION"] = vText(description)
    if location:
        vevent["LOCATION"] = vText(location)
    vevent["URL"] = vUri(url)
    vevent["STATUS"] = vText(status or _status(event))
    return vevent


def _session_vevent(event: Event, session: Session, site: Site, *, uid: str, sequence: int,
                    dtstamp: datetime, status: str | None = None) -> VEvent:
    url = site.session_url(event, session)
    return _vevent(event, uid=uid, sequence=sequence, dtstamp=dtstamp, starts_at=session.starts_at,
                   ends_at=session.ends_at, summary=_line(_tr(session, "title")),
                   description=_session_description(session, url), location=location_text(event, session),
                   url=url, status=status)


def _event_vevent(event: Event, site: Site, *, uid: str, sequence: int, dtstamp: datetime,
                  status: str | None = None) -> VEvent:
    url = site.event_url(event)
    return _vevent(event, uid=uid, sequence=sequence, dtstamp=dtstamp, starts_at=event.starts_at,
                   ends_at=event.ends_at, summary=_line(_tr(event, "title")),
                   description=_event_description(event, url), location=location_text(event), url=url, status=status)


def last_modified(event: Event, sessions: Iterable[Session] = ()) -> datetime:
    """When the event or any of these sessions last changed (Last-Modified of a feed, DTSTAMP of its items)."""
    return max([event.updated_at, *(s.updated_at for s in sessions)])


# -- feeds -----------------------------------------------------------------------------------------

def programme_calendar(event: Event, site: Site) -> bytes:
    """The whole programme: one VEVENT per session."""
    return _feed(event, event.sessions, site, _line(_tr(event, "title")))


def session_calendar(event: Event, session: Session, site: Site) -> bytes:
    """One session of the programme."""
    return _feed(event, [session], site, f"{_line(_tr(session, 'title'))} · {_line(_tr(event, 'title'))}")


def _feed(event: Event, sessions: Iterable[Session], site: Site, name: str) -> bytes:
    cal = _calendar(event, name)
    shared = (site, str(get_locale()), event.id, event.slug, event.timezone, event.times_confirmed,
              event.updated_at, event.venue.one_line if event.venue is not None else None)
    return _assemble(event, cal, [_feed_vevent_ical(event, session, site, shared) for session in sessions])


# Serialised feed VEVENTs, per process, keyed by everything a VEVENT shows (so an entry can never be
# stale: any change makes another key). Bounded: emptied when full.
_FEED_VEVENTS: dict[tuple, bytes] = {}
FEED_VEVENTS_MAX = 5000


def _feed_vevent_ical(event: Event, session: Session, site: Site, shared: tuple) -> bytes:
    key = (shared, session.id, session.sequence, session.updated_at, session.title, session.title_en,
           session.description, session.description_en, session.starts_at, session.ends_at,
           session.room.name if session.room is not None else None,
           tuple((link.role, link.speaker.title, link.speaker.title_en, link.speaker.name, link.speaker.affiliation)
                 for link in session.speaker_links))
    serialised = _FEED_VEVENTS.get(key)
    if serialised is None:
        serialised = to_ical(_session_vevent(event, session, site, uid=site.uid(event, session),
                                             sequence=session.sequence, dtstamp=last_modified(event, [session])))
        if len(_FEED_VEVENTS) >= FEED_VEVENTS_MAX:
            _FEED_VEVENTS.clear()
        _FEED_VEVENTS[key] = serialised
    return serialised


def forget_serialised_vevents() -> None:
    """Empty the per-process cache of feed VEVENTs (the benchmark's cold figure; tests)."""
    _FEED_VEVENTS.clear()


def agenda_calendar(registration: Registration, site: Site) -> bytes:
    """A registrant's own agenda: the event and the round tables they hold a confirmed seat in.

    Carries nothing about anybody else (no attendee list); a cancelled registration shows the event
    as CANCELLED so that subscribed clients strike it out.
    """
    event = registration.event
    seats = confirmed_seats(registration) if registration.status is RegistrationStatus.confirmed else []
    vevents = [to_ical(_event_vevent(
        event, site, uid=site.uid(event, registration=registration), sequence=registration.ical_sequence,
        dtstamp=max(last_modified(event), registration.updated_at), status=_registration_status(registration),
    ))]
    vevents.extend(to_ical(_session_vevent(
        event, seat.session, site, uid=site.uid(event, seat.session, registration),
        sequence=seat_sequence(seat), dtstamp=max(last_modified(event, [seat.session]), seat.updated_at),
    )) for seat in seats)
    return _assemble(event, _calendar(event, _line(_tr(event, "title"))), vevents)


def _registration_status(registration: Registration) -> str | None:
    return {RegistrationStatus.cancelled: "CANCELLED", RegistrationStatus.waitlisted: "TENTATIVE"}.get(
        registration.status)


def confirmed_seats(registration: Registration) -> list[SessionSeat]:
    return [s for s in registration.seats if s.status is SeatStatus.confirmed]


def seat_sequence(seat: SessionSeat) -> int:
    """SEQUENCE of a round-table invite: see the module docstring."""
    return seat.session.sequence + seat.ical_sequence


# -- iTIP invites ------------------------------------------------------------------------------------

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def event_invite(registration: Registration, method: str, site: Site, now: datetime) -> bytes:
    """An iTIP REQUEST or CANCEL for the event as a whole, addressed to the registrant."""
    event = registration.event
    vevent = _event_vevent(event, site, uid=site.uid(event, registration=registration),
                           sequence=registration.ical_sequence, dtstamp=now,
                           status="CANCELLED" if method == CANCEL else None)
    return _invite(event, registration, vevent, method, site)


def session_invite(seat: SessionSeat, method: str, site: Site, now: datetime) -> bytes:
    """An iTIP REQUEST or CANCEL for one round table, addressed to the seat's registrant."""
    registration, session = seat.registration, seat.session
    event = registration.event
    vevent = _session_vevent(event, session, site, uid=site.uid(event, session, registration),
                             sequence=seat_sequence(seat), dtstamp=now,
                             status="CANCELLED" if method == CANCEL else None)
    return _invite(event, registration, vevent, method, site)


def _invite(event: Event, registration: Registration, vevent: VEvent, method: str, site: Site) -> bytes:
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"unsupported iTIP method {method!r}")
    organiser = vCalAddress(f"mailto:{_address(event.contact_email or site.fallback_organiser)}")
    if _line(_tr(event, "organiser")):
        organiser.params["CN"] = _line(_tr(event, "organiser"))
    vevent.add("organizer", organiser)
    attendee = vCalAddress(f"mailto:{_address(registration.email)}")
    attendee.params.update({"CN": _line(registration.full_name) or _address(registration.email),
                            "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "FALSE"})
    vevent.add("attendee", attendee)
    return _assemble(event, _calendar(event, _line(_tr(event, "title")), method=method), [to_ical(vevent)])


def _address(value: str) -> str:
    """An e-mail address fit for a mailto: URI (no spaces, breaks or controls)."""
    return "".join(_line(value).split())
