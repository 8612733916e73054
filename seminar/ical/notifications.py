"""E-mailed iTIP invites (RFC 6047), through the outbox, that keep attendees' calendars in step.

Each message carries ONE calendar object with ONE UID, as Outlook, Gmail and Apple Mail expect of an
iTIP message: the registrant e-mail (confirmation, promotion, cancellation) carries the invite for the
event as a whole; each round table has its own short invite message. Round-table invites use the outbox's
`coalesce_key` ("ical:<UID>"): a still-pending invite for the same person and round table is replaced by
the newer one, so several quick edits of a session send one update (held back ICAL_UPDATE_DELAY seconds,
default 120, for the edits to settle).

Everything here runs inside the caller's transaction and never commits. SEQUENCE rules: see
`seminar.ical.calendar`; this module raises `Registration.ical_sequence` before each event invite and
`SessionSeat.ical_sequence` before each round-table invite caused by the registrant's own changes, while
the back-office raises `Session.sequence` before calling `session_changed` / `session_deleted`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from seminar.events.models import Event, Session
from seminar.extensions import db, utcnow
from seminar.formatting import local_datetime, local_time
from seminar.ical.calendar import CANCEL, REQUEST, Site, event_invite, location_text, session_invite
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import enqueue
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat
from seminar.registration.notifications import LOGO_CID, MailKind, RegistrantMail, header_images, manage_url

UPDATE_DELAY_SECONDS = 120


def attach_invites(mail: RegistrantMail) -> None:
    """Calendar part provider for registrant e-mails (see `seminar.registration.notifications`).

    Confirmation, and promotion of the registration itself: REQUEST for the event (a promotion of seats
    alone sends none: the event's invite was sent with the confirmation); cancellation: CANCEL (only if an
    invite was ever sent). Round tables confirmed or released by that change get their own REQUEST or
    CANCEL message.
    """
    registration = mail.registration
    confirmed = registration.status is RegistrationStatus.confirmed
    confirms_event = mail.kind is MailKind.confirmation or (mail.kind is MailKind.promoted and not mail.seats_only)
    if confirmed and confirms_event:
        registration.ical_sequence += 1
        mail.ics, mail.ics_method = _event_ics(registration, REQUEST), REQUEST
    elif mail.kind is MailKind.cancelled and registration.ical_sequence > 0:
        registration.ical_sequence += 1
        mail.ics, mail.ics_method = _event_ics(registration, CANCEL), CANCEL
    seats = {seat.session.id: seat for seat in registration.seats}  # new seats have no session_id until flushed
    if confirmed:
        for session in mail.sessions_confirmed:
            _send_seat_invite(seats[session.id], REQUEST, bump=True)
    for session in mail.sessions_released:
        seat = seats.get(session.id)
        if seat is not None and seat.ical_sequence > 0:  # an invite was sent: withdraw it
            _send_seat_invite(seat, CANCEL, bump=True)


def session_changed(session: Session) -> int:
    """An organiser changed the time, room or title of `session` (Session.sequence already raised):
    queue an updated REQUEST for each confirmed attendee. Returns how many were queued."""
    seats = _confirmed_seats(session)
    for seat in seats:
        _send_seat_invite(seat, REQUEST, bump=False, delay=True)
    return len(seats)


def session_deleted(session: Session) -> int:
    """`session` is being deleted (Session.sequence already raised): queue a CANCEL for each confirmed
    attendee, replacing any update still pending. Returns how many were queued."""
    seats = _confirmed_seats(session)
    for seat in seats:
        _send_seat_invite(seat, CANCEL, bump=False)
    return len(seats)


def event_changed(event: Event) -> int:
    """An organiser changed what the event's own invite shows (its title, description, times, organiser or
    venue): queue an updated REQUEST for each confirmed registrant who was sent the invite, held back like
    the round tables' updates so that quick edits send one. Returns how many were queued."""
    registrations = _invited(event)
    for registration in registrations:
        with force_locale(_locale(registration)):
            subject = _("Updated: %(title)s", title=event.text("title", _locale(registration)))
            intro = _("The organisers have changed the event; your calendar will be updated.")
            _hold_back(_event_message(registration, REQUEST, subject, intro))
    return len(registrations)


def event_cancelled(event: Event) -> int:
    """The event is being deleted before it has ended: queue a CANCEL of the event's invite for each
    confirmed registrant who was sent it (the round tables' invites: `session_deleted`). Returns how many."""
    registrations = _invited(event)
    for registration in registrations:
        with force_locale(_locale(registration)):
            subject = _("Cancelled: %(title)s", title=event.text("title", _locale(registration)))
            intro = _("This event has been cancelled and removed from your calendar.")
            _event_message(registration, CANCEL, subject, intro, manage_link=False)
    return len(registrations)


def _invited(event: Event) -> list[Registration]:
    """The event's confirmed registrants who were sent its invite."""
    db.session.flush()
    return list(db.session.scalars(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.status == RegistrationStatus.confirmed,
               Registration.ical_sequence > 0, Registration.anonymised_at.is_(None))
        .order_by(Registration.id)
    ))


def _event_message(registration: Registration, method: str, subject: str, intro: str, *,
                   manage_link: bool = True) -> OutboxMessage:
    """Queue the event's invite (next SEQUENCE) to the registrant, with a short message; replaces one pending."""
    event = registration.event
    registration.ical_sequence += 1
    when = _("%(start)s to %(end)s", start=local_datetime(event.starts_at, event.timezone),
             end=local_datetime(event.ends_at, event.timezone))
    text, html, images = _invite_message(registration, subject, intro, event.text("title", _locale(registration)),
                                         when, location_text(event), manage_link=manage_link)
    return enqueue(registration.email, subject, text, html, ics=_event_ics(registration, method),
                   ics_method=method, coalesce_key=f"ical:{_site().uid(event, registration=registration)}",
                   event_id=event.id, registration_id=registration.id, inline_images=images,
                   **event.mail_identity(_locale(registration)))


def _invite_message(registration: Registration, subject: str, intro: str, title: str, when: str, where: str, *,
                    manage_link: bool = True, round_table: bool = False) -> tuple[str, str, list]:
    """The text and HTML parts of an invitation (and the HTML's images), in the current locale."""
    event = registration.event
    images = header_images(event)
    context = {"registration": registration, "event": event, "subject": subject, "intro": intro, "title": title,
               "when": when, "where": where, "manage_url": manage_url(registration) if manage_link else None,
               "round_table": round_table, "locale": _locale(registration),
               "logo_cid": LOGO_CID if images else None}
    return (render_template("mail/invite.txt", **context), render_template("mail/invite.html", **context),
            images)


def _hold_back(message: OutboxMessage) -> None:
    """An update waits ICAL_UPDATE_DELAY seconds, so that the next quick edit replaces it (one update sent)."""
    seconds = current_app.config.get("ICAL_UPDATE_DELAY", UPDATE_DELAY_SECONDS)
    message.next_attempt_at = utcnow() + timedelta(seconds=seconds)


def _confirmed_seats(session: Session) -> list[SessionSeat]:
    db.session.flush()
    return list(db.session.scalars(
        select(SessionSeat)
        .join(Registration, Registration.id == SessionSeat.registration_id)
        .where(SessionSeat.session_id == session.id, SessionSeat.status == SeatStatus.confirmed,
               Registration.status == RegistrationStatus.confirmed, Registration.anonymised_at.is_(None))
        .options(selectinload(SessionSeat.registration).selectinload(Registration.event))
        .order_by(SessionSeat.id)
    ))


def _site() -> Site:
    return Site.from_config(current_app.config)


def _locale(registration: Registration) -> str:
    return registration.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def _event_ics(registration: Registration, method: str) -> str:
    with force_locale(_locale(registration)):
        return event_invite(registration, method, _site(), utcnow()).decode("utf-8")


def _send_seat_invite(seat: SessionSeat, method: str, *, bump: bool, delay: bool = False) -> None:
    registration, session = seat.registration, seat.session
    event = registration.event
    # A seat taken in this transaction and not yet written has no ical_sequence (the column default comes
    # with the INSERT): no invite was ever queued for it, since seats are never deleted, only cancelled.
    first_invite = seat.ical_sequence is None
    if bump:
        seat.ical_sequence = (seat.ical_sequence or 0) + 1
    site = _site()
    with force_locale(_locale(registration)):
        ics = session_invite(seat, method, site, utcnow()).decode("utf-8")
        title = session.text("title", _locale(registration))
        if method == CANCEL:
            subject = _("Cancelled: %(title)s", title=title)
            intro = _("This round table has been removed from your calendar.")
        elif delay:
            subject = _("Updated: %(title)s", title=title)
            intro = _("The organisers have changed this round table; your calendar will be updated.")
        else:
            subject = _("Invitation: %(title)s", title=title)
            intro = _("Your seat at this round table is confirmed. Add it to your calendar.")
        when = _("%(start)s to %(end)s", start=local_datetime(session.starts_at, event.timezone),
                 end=local_time(session.ends_at, event.timezone))
        text, html, images = _invite_message(registration, subject, intro, title, when,
                                             location_text(event, session), round_table=method != CANCEL)
    message = enqueue(
        registration.email, subject, text, html, ics=ics, ics_method=method,
        coalesce_key=f"ical:{site.uid(event, session, registration)}", first_for_key=first_invite,
        event_id=event.id, registration_id=registration.id, inline_images=images,
        **event.mail_identity(_locale(registration)),
    )
    if delay:
        _hold_back(message)
