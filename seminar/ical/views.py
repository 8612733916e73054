"""Calendar feeds: the programme, one session, a registrant's own agenda (`text/calendar`, conditional GET)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request, url_for

from seminar.events import services as events
from seminar.events.models import Event, Session
from seminar.ical import links
from seminar.registration.notifications import RegistrantMail, add_calendar_part
from seminar.registration.services import find_by_token

if TYPE_CHECKING:
    from seminar.ical.calendar import Site

# seminar.ical.calendar and .notifications load icalendar: imported by the code that writes a calendar, when it
# first runs, so that the app starts without it.

bp = Blueprint("ical", __name__)


def _attach_invites(mail: RegistrantMail) -> None:
    from seminar.ical.notifications import attach_invites

    attach_invites(mail)


# Registrant e-mails get their iTIP part from this area once the calendar blueprint is part of the app.
bp.record_once(lambda state: add_calendar_part(state.app, _attach_invites))

MIMETYPE = "text/calendar"


def _event_or_404(slug: str) -> Event:
    event = events.get_event(slug)
    if event is None:
        abort(404)
    return event


def _site() -> Site:
    from seminar.ical.calendar import Site

    return Site.from_config(current_app.config)


def _ics_response(body: bytes, filename: str, last_modified, *, private: bool = False) -> Response:
    response = Response(body, mimetype=MIMETYPE)  # Flask adds "; charset=utf-8" to text/* types
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.cache_control.private = private or None
    response.cache_control.public = (not private) or None
    response.cache_control.no_cache = True  # clients may keep it, but revalidate (cheaply: ETag / 304)
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    response.last_modified = last_modified
    response.add_etag()  # a hash of the body: any change anywhere in the feed changes it
    return response.make_conditional(request)


@bp.get("/events/<slug>/programme.ics")
def programme(slug: str):
    from seminar.ical import calendar

    event = _event_or_404(slug)
    body = calendar.programme_calendar(event, _site())
    return _ics_response(body, f"{event.slug}.ics", calendar.last_modified(event, event.sessions))


@bp.get("/events/<slug>/sessions/<int:session_id>.ics")
def session(slug: str, session_id: int):
    from seminar.ical import calendar

    event = _event_or_404(slug)
    found = next((s for s in event.sessions if s.id == session_id), None)
    if found is None:  # unknown, or a session of another event
        abort(404)
    body = calendar.session_calendar(event, found, _site())
    return _ics_response(body, f"{event.slug}-session-{found.id}.ics", calendar.last_modified(event, [found]))


@bp.get("/registrations/<token>/agenda.ics")
def agenda(token: str):
    """The registrant's own agenda, subscribable: the token in the URL is the only key (404 otherwise)."""
    from seminar.ical import calendar

    registration = find_by_token(token)
    if registration is None:
        abort(404)
    body = calendar.agenda_calendar(registration, _site())
    seats_changed = [seat.updated_at for seat in registration.seats]
    changed = max([calendar.last_modified(registration.event, registration.event.sessions),
                   registration.updated_at, *seats_changed])
    response = _ics_response(body, "agenda.ics", changed, private=True)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.app_template_global()
def calendar_links(event: Event, session: Session | None = None, feed_url: str | None = None) -> dict[str, str]:
    """Links for the add-to-calendar macro: the .ics file, its webcal:// subscription, Google and Outlook.com."""
    from seminar.ical.calendar import location_text

    if feed_url is None:
        feed_url = (url_for("ical.session", slug=event.slug, session_id=session.id, _external=True) if session
                    else url_for("ical.programme", slug=event.slug, _external=True))
    item = session or event
    site = _site()
    page = site.session_url(event, session) if session else site.event_url(event)
    title, where = item.title, location_text(event, session)
    summary = session.description if session else event.subtitle
    details = "\n\n".join(p for p in (summary[:links.SUMMARY_LIMIT], page) if p)
    return {
        "ics": feed_url,
        "webcal": links.webcal(feed_url),
        "google": links.google_url(title, item.starts_at, item.ends_at, details, where, event.timezone),
        "outlook": links.outlook_url(title, item.starts_at, item.ends_at, details, where),
    }
