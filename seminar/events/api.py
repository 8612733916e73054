"""The public JSON representation of an event (`GET /api/events/<slug>`)."""

from __future__ import annotations

from datetime import datetime

from seminar.events.models import Event, Session
from seminar.registration.occupancy import EventOccupancy, Occupancy


def iso(moment: datetime) -> str:
    return moment.isoformat()


def _texts(obj, *fields: str) -> dict:
    """Each public text with its English twin under the same key suffixed `_en` (empty when not translated)."""
    return {key: getattr(obj, key) for field in fields for key in (field, f"{field}_en")}


def _counts(occ: Occupancy) -> dict:
    return {
        "capacity": occ.capacity,
        "seats_left": occ.seats_left,
        "confirmed": occ.confirmed,
        "waitlisted": occ.waitlisted,
    }


def _session(event: Event, session: Session, occ: Occupancy) -> dict:
    return {
        "id": session.id,
        "kind": session.kind.value,
        **_texts(session, "title", "description"),
        "starts_at": iso(event.local(session.starts_at)),
        "ends_at": iso(event.local(session.ends_at)),
        "room": session.room.name if session.room else None,
        **_counts(occ),
        "takes_registrations": session.takes_registrations,
        "speakers": [
            {
                "id": link.speaker.id,
                "name": link.speaker.name,
                **_texts(link.speaker, "title"),
                "affiliation": link.speaker.affiliation,
                "role": link.role.value,
            }
            for link in session.speaker_links
        ],
    }


def event_to_json(event: Event, occupancy: EventOccupancy) -> dict:
    venue = event.venue
    return {
        "slug": event.slug,
        **_texts(event, "title", "subtitle", "description", "organiser"),
        "starts_at": iso(event.local(event.starts_at)),
        "ends_at": iso(event.local(event.ends_at)),
        "timezone": event.timezone,
        "times_confirmed": event.times_confirmed,
        "venue": {
            "name": venue.name if venue else None,
            "address": venue.street_address if venue else None,
            "postal_code": venue.postal_code if venue else None,
            "city": venue.city if venue else None,
            "country": venue.country if venue else None,
            **(_texts(venue, "access_notes", "accessibility_notes") if venue else {}),
        },
        "registration": {
            "open": event.registration_is_open(),
            "opens_at": iso(event.local(event.registration_opens_at)) if event.registration_opens_at else None,
            "closes_at": iso(event.local(event.registration_closes_at)),
            "invitation_only": event.invitation_only,
            **_counts(occupancy.event),
        },
        "sessions": [_session(event, s, occupancy.session(s)) for s in event.sessions],
    }
