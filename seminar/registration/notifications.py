"""The one place that composes e-mails to registrants: confirmation, waitlisted, promoted, updated,
cancelled and link reminder, each carrying the absolute self-service link (from BASE_URL); and, when the
address changes, the link confirming the new address, then the word to the old one (templates/registration/
mail_address.*: no self-service link, no name). Each is multipart (plain text and HTML, from templates/mail/),
written in the registrant's language.

`notify(kind, registration, ...)` records in the outbox, within the caller's transaction, which e-mail is
due (no commit here). The outbox worker then calls `write_mail`, which composes a `RegistrantMail`, lets the
calendar parts registered for the app fill in its `ics`/`ics_method` (and `coalesce_key`), and writes it
into that outbox row.

Adding a calendar part (for the calendar area)::

    from seminar.registration.notifications import add_calendar_part

    def invite(mail: RegistrantMail) -> None:
        # mail.kind, mail.registration, mail.sessions_confirmed (seats just confirmed: send REQUEST),
        # mail.sessions_released (seats just given up or cancelled: send CANCEL)
        if mail.kind is MailKind.cancelled or mail.sessions_released:
            mail.ics, mail.ics_method = build_cancel(...), "CANCEL"
        elif mail.kind in (MailKind.confirmation, MailKind.promoted, MailKind.updated):
            mail.ics, mail.ics_method = build_request(...), "REQUEST"

    add_calendar_part(app, invite)   # once, when the app is configured (e.g. from wiring)

Providers run in registration order; each sees what the previous ones set. They run inside the composing
transaction, with the registration, its event, seats and sessions loaded: they must not commit. The outbox
turns `ics` into a `text/calendar; method=<ics_method>; charset=UTF-8` alternative part.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import Flask, current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from seminar.badges.qr import checkin_qr_png
from seminar.events.models import Event, Session, SessionSpeaker
from seminar.extensions import db
from seminar.mail.images import scaled_png
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import InlineImage, enqueue_to_compose, row_to_compose, write
from seminar.registration import ledger
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat
from seminar.registration.tokens import current_token

_EXTENSION_KEY = "seminar.calendar_parts"


class MailKind(enum.Enum):
    confirmation = "confirmation"  # registered, confirmed for the event
    waitlisted = "waitlisted"  # registered, on the event's waiting list
    promoted = "promoted"  # a seat (event or round table) came free and is now theirs
    updated = "updated"  # round tables or details changed
    cancelled = "cancelled"  # the registration is cancelled
    link = "link"  # reminder of the self-service link (also: a second registration attempt)


@dataclass
class RegistrantMail:
    kind: MailKind
    registration: Registration
    to_addr: str
    subject: str
    text_body: str
    html_body: str
    manage_url: str
    sessions_confirmed: list[Session] = field(default_factory=list)
    sessions_released: list[Session] = field(default_factory=list)
    # A promotion of round-table seats only: the registration was confirmed before (no new event invite).
    seats_only: bool = False
    ics: str | None = None
    ics_method: str | None = None
    coalesce_key: str | None = None
    inline_images: list[InlineImage] = field(default_factory=list)


CalendarPart = Callable[[RegistrantMail], None]


def add_calendar_part(app: Flask, provider: CalendarPart) -> None:
    """Register a function that may attach an iCalendar part to every registrant e-mail."""
    providers = app.extensions.setdefault(_EXTENSION_KEY, [])
    if provider not in providers:
        providers.append(provider)


def manage_url(registration: Registration) -> str:
    """The absolute self-service link (the token is re-derived, never stored)."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/registrations/{current_token(registration)}"


def standing_label(status: RegistrationStatus | SeatStatus, position: int | None = None) -> str:
    """A place in words of the current locale: confirmed, waiting (at which position), pending, cancelled."""
    if status.name == "waitlisted":
        return _("on the waiting list, position %(num)d", num=position) if position else _("on the waiting list")
    return {"confirmed": _("place confirmed"), "wish": _("pending until your place is confirmed"),
            "cancelled": _("cancelled")}[status.name]


def standing(registration: Registration) -> tuple[str, list[tuple[SessionSeat, str]]]:
    """What the registrant holds now, in words of the current locale: the event's place, then each round table
    chosen (by time) with its own; waiting-list positions included (1 = next to get a place)."""
    seats = sorted(registration.active_seats(), key=lambda s: (s.session.starts_at, s.session.id))
    positions = ledger.seat_positions(registration) if registration.status is RegistrationStatus.confirmed else {}
    return (standing_label(registration.status, ledger.waiting_position(registration)),
            [(seat, standing_label(seat.status, positions.get(seat.session_id))) for seat in seats])


def _subject(kind: MailKind, title: str) -> str:
    return {
        MailKind.confirmation: _("Your registration is confirmed: %(title)s", title=title),
        MailKind.waitlisted: _("You are on the waiting list: %(title)s", title=title),
        MailKind.promoted: _("A place is now yours: %(title)s", title=title),
        MailKind.updated: _("Your registration has been updated: %(title)s", title=title),
        MailKind.cancelled: _("Your registration is cancelled: %(title)s", title=title),
        MailKind.link: _("Your registration link: %(title)s", title=title),
    }[kind]


def compose(
    kind: MailKind,
    registration: Registration,
    *,
    sessions_confirmed: Iterable[Session] = (),
    sessions_released: Iterable[Session] = (),
    seats_only: bool = False,
) -> RegistrantMail:
    """Render the e-mail of `kind` for `registration`, in the registrant's language. A confirmed registrant's
    confirmation and promotion carry the check-in QR code (an inline image) and the link to the badge."""
    event = registration.event
    link = manage_url(registration)
    confirmed, released = list(sessions_confirmed), list(sessions_released)
    locale = registration.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    images = header_images(event)
    is_confirmed = registration.status is RegistrationStatus.confirmed
    badge = is_confirmed and kind in (MailKind.confirmation, MailKind.promoted)
    if badge:
        images.append(InlineImage(QR_CID, "image/png", checkin_qr_png(registration)))
    with force_locale(locale):
        held, seats = standing(registration)
        context = {
            "kind": kind.value,
            "registration": registration,
            "event": event,
            "held": held,
            "seats": seats,
            "sessions_confirmed": confirmed,
            "sessions_released": released,
            "manage_url": link,
            "locale": registration.locale,
            "logo_cid": LOGO_CID if images and images[0].cid == LOGO_CID else None,
            "qr_cid": QR_CID if badge else None,
            "badge_url": f"{link}/badge.pdf" if badge else None,
            # Round tables are sent as invitations of their own (one UID each, as iTIP wants): say why.
            "separate_invites": is_confirmed and any(seat.status is SeatStatus.confirmed for seat, _label in seats),
        }
        subject = _subject(kind, event.text("title", locale))
        text_body = render_template("mail/registration.txt", **context)
        html_body = render_template("mail/registration.html", subject=subject, **context)
    return RegistrantMail(kind, registration, registration.email, subject, text_body, html_body, link,
                          confirmed, released, seats_only, inline_images=images)


LOGO_CID = "organiser-logo"
QR_CID = "checkin-qr"


def header_images(event: Event) -> list[InlineImage]:
    """The organiser's logo for the e-mails' header, when the event has one."""
    if not event.organiser_logo_mimetype:
        return []
    return [InlineImage(LOGO_CID, "image/png", scaled_png(event.organiser_logo))]


COMPOSE_KIND = "registrant"


def notify(
    kind: MailKind,
    registration: Registration,
    *,
    sessions_confirmed: Iterable[Session] = (),
    sessions_released: Iterable[Session] = (),
    seats_only: bool = False,
) -> OutboxMessage:
    """Record in the outbox, within the caller's transaction, that `registration` is to get the e-mail of
    `kind` (one INSERT, no commit). The outbox worker writes it (`write_mail`) before sending: composing it
    here would keep the event's lock while templates and invites are rendered. `seats_only`: a promotion
    of round-table seats alone (see `RegistrantMail.seats_only`)."""
    return _record(registration, {"kind": kind.value, "confirmed": [s.id for s in sessions_confirmed],
                                  "released": [s.id for s in sessions_released], "seats_only": seats_only})


# A new registration's e-mail: its confirmation or waiting-list e-mail, whichever holds when it is written.
REGISTERED = "registered"


def notify_registered(registration: Registration) -> OutboxMessage:
    """Record the e-mail of a registration just saved, before its place is decided (`notify` for the rest)."""
    return _record(registration, {"kind": REGISTERED})


def registered_mail(registration_id: int, event_id: int, to_addr: str) -> dict:
    """`notify_registered` for a registration written by INSERTs of its own: the row of its e-mail."""
    return row_to_compose(COMPOSE_KIND, {"kind": REGISTERED}, to_addr=to_addr, event_id=event_id,
                          registration_id=registration_id)


# Changing the address: the new one gets a link to confirm it, the old one is told once the change is made.
EMAIL_CHANGE = "email_change"
EMAIL_CHANGED = "email_changed"


def notify_email_change(registration: Registration, new_email: str, code: str) -> OutboxMessage:
    """Record the e-mail to `new_email` with the link (`code`) that gives it to the registration."""
    return enqueue_to_compose(COMPOSE_KIND, {"kind": EMAIL_CHANGE, "code": code}, to_addr=new_email,
                              event_id=registration.event_id, registration_id=registration.id)


def notify_email_changed(registration: Registration, old_email: str) -> OutboxMessage:
    """Record the e-mail telling `old_email` that the registration's address is no longer it."""
    return enqueue_to_compose(COMPOSE_KIND, {"kind": EMAIL_CHANGED}, to_addr=old_email,
                              event_id=registration.event_id, registration_id=registration.id)


def email_change_url(code: str) -> str:
    """The absolute link that confirms a new address (`registration.confirm_email`)."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/registrations/confirm-email/{code}"


def _write_address_mail(message: OutboxMessage, registration: Registration, about: dict) -> None:
    """The address e-mails go to the address recorded with them (the new one, or the old one), not to the
    registration's; they name nobody, as the new address may be a mistyped stranger's."""
    event = registration.event
    locale = registration.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        title = event.text("title", locale)
        if about["kind"] == EMAIL_CHANGE:
            subject = _("Confirm your new e-mail address: %(title)s", title=title)
        else:
            subject = _("Your e-mail address has been changed: %(title)s", title=title)
        context = {"kind": about["kind"], "event": event, "locale": registration.locale,
                   "confirm_url": email_change_url(about["code"]) if "code" in about else None,
                   "hours": max(1, current_app.config["REGISTRATION_EMAIL_CHANGE_MAX_AGE"] // 3600)}
        images = header_images(event)
        text_body = render_template("registration/mail_address.txt", **context)
        html_body = render_template("registration/mail_address.html", subject=subject,
                                    logo_cid=LOGO_CID if images else None, **context)
    write(message, message.to_addr, subject, text_body, html_body, inline_images=images,
          **event.mail_identity(locale))


def _record(registration: Registration, about: dict) -> OutboxMessage:
    return enqueue_to_compose(COMPOSE_KIND, about, to_addr=registration.email, event_id=registration.event_id,
                              registration_id=registration.id)


def write_mail(message: OutboxMessage, about: dict) -> None:
    """Outbox composer for `notify`: render the e-mail with the registration as it is now (its current
    address, link and seats), let the calendar parts add their invites, and fill in `message`. An erased
    registration gets nothing: the message is deleted."""
    registration = db.session.scalar(
        select(Registration).where(Registration.id == message.registration_id)
        .options(selectinload(Registration.seats).joinedload(SessionSeat.session), joinedload(Registration.event))
    )
    if registration is None or registration.anonymised_at is not None:
        db.session.delete(message)
        return
    if about["kind"] in (EMAIL_CHANGE, EMAIL_CHANGED):
        _write_address_mail(message, registration, about)
        return
    # Seats as they are now: one confirmed then given up before this is written gets no invite (nor, later,
    # a cancellation of it); one released then taken again is not withdrawn.
    held = {seat.session_id for seat in registration.seats if seat.status is SeatStatus.confirmed}
    if about["kind"] == REGISTERED:
        if registration.status is RegistrationStatus.cancelled:  # cancelled before this was written
            db.session.delete(message)
            return
        confirmed_now = registration.status is RegistrationStatus.confirmed
        about = {"kind": (MailKind.confirmation if confirmed_now else MailKind.waitlisted).value,
                 "confirmed": sorted(held)}
    sessions = _sessions({*about.get("confirmed", ()), *about.get("released", ())})
    confirmed = [sessions[i] for i in about.get("confirmed", ()) if i in sessions and i in held]
    released = [sessions[i] for i in about.get("released", ()) if i in sessions and i not in held]
    mail = compose(MailKind(about["kind"]), registration, sessions_confirmed=confirmed, sessions_released=released,
                   seats_only=about.get("seats_only", False))
    for provider in current_app.extensions.get(_EXTENSION_KEY, []):
        provider(mail)
    write(message, mail.to_addr, mail.subject, mail.text_body, mail.html_body,
          ics=mail.ics, ics_method=mail.ics_method, coalesce_key=mail.coalesce_key, inline_images=mail.inline_images,
          **registration.event.mail_identity(registration.locale or current_app.config["BABEL_DEFAULT_LOCALE"]))


def _sessions(ids: set[int]) -> dict[int, Session]:
    """The sessions an e-mail is about, with what the e-mail and its invites show (room, speakers, venue),
    in one statement; a session deleted since is left out."""
    if not ids:
        return {}
    return {s.id: s for s in db.session.scalars(
        select(Session).where(Session.id.in_(ids))
        .options(joinedload(Session.room),
                 joinedload(Session.speaker_links).joinedload(SessionSpeaker.speaker),
                 joinedload(Session.event).joinedload(Event.venue))
    ).unique()}
