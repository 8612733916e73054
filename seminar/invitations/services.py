"""The guest list: importing and adding invitees, sending their invitations and reminders, their answers.

Services take plain values and own their transaction (`seminar.database.write_transaction`); e-mails are recorded
in the outbox and written later by `write_mail` (registered as the outbox composer of `COMPOSE_KIND`), in the
invitee's language. Each invitation's personal link is drawn when it is first sent; only its hash and salt are
stored (as registrations' links, `seminar.registration.tokens`).

The invitee becomes *registered* when a registration of the event is created for the address, however it arrives:
`registration_created` subscribes to the registration area's signal (`seminar.wiring`), which knows nothing of
invitations.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from seminar import text
from seminar.admin.imports import IMPORT_MAX_ROWS, category_lookup, csv_reader, field_errors
from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.events.models import Event
from seminar.extensions import db, utcnow
from seminar.invitations.models import Invitation, InvitationState
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import enqueue_to_compose, write
from seminar.registration.notifications import LOGO_CID, header_images
from seminar.registration.services import RegistrationDetails, clean_details
from seminar.registration.tokens import current_token, hash_token, looks_like_token, new_link, tokens_match
from seminar.registration.validation import InvalidDetails, email_key

LANGUAGES = ("fr", "en")
DECLINE_MESSAGE_MAX = 2000
COMPOSE_KIND = "invitation"
NOT_SENT, INVITED, REGISTERED, DECLINED = (InvitationState.not_sent, InvitationState.invited,
                                           InvitationState.registered, InvitationState.declined)


class InvitationError(Exception):
    """A request the rules refuse; `message` is meant for the person who made it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class InvitationNotFound(InvitationError):
    def __init__(self):
        super().__init__(_l("This invitation does not exist."))


class EventEnded(InvitationError):
    def __init__(self):
        super().__init__(_l("This event has ended: invitations to it are closed."))


class AlreadyRegistered(InvitationError):
    def __init__(self):
        super().__init__(_l("You have registered for this event already. To decline, cancel your registration "
                            "with the personal link of the e-mail that confirmed it."))


# --- reading a guest list ------------------------------------------------------------------------------

@dataclass
class Invitee:
    line: int
    first_name: str
    last_name: str
    email: str
    organisation: str
    category_id: int | None
    language: str


@dataclass
class GuestListReport:
    """Outcome of a guest list import: line numbers refer to the file, header = line 1."""

    ready: list[Invitee] = field(default_factory=list)
    added: list[tuple[int, str]] = field(default_factory=list)  # line, e-mail
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)  # line, e-mail, why
    rejected: list[tuple[int, str]] = field(default_factory=list)  # line, reason
    error: str = ""

    def summary(self) -> dict:
        return {"added": len(self.added), "duplicates": len(self.duplicates), "rejected": len(self.rejected)}


def _is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"  # a ZIP archive: an Office Open XML workbook


def _xlsx_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The file's lines (line number, cells as text), header first: a CSV read as the registrant import reads
    it (encoding, separator), or the first sheet of an XLSX workbook. A formula cell is read as the formula's
    text, never evaluated, as a CSV cell starting with "=" is (exports neutralise both)."""
    if not _is_xlsx(data):
        reader = csv_reader(data)
        for values in reader:
            yield reader.line_num, values
        return
    from openpyxl import load_workbook  # heavy: only when a workbook comes

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, [_xlsx_value(v) for v in values]
    finally:
        workbook.close()


class UnreadableFile(ValueError):
    pass


def _lines(data: bytes) -> Iterator[tuple[int, list[str]]]:
    import csv
    import zipfile

    try:
        yield from _rows(data)
    except (csv.Error, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(str(error)) from error


def read_guest_list(event_id: int, data: bytes) -> GuestListReport:
    """Parse and check a guest list (CSV or XLSX: first_name, last_name, email, organisation, category, language)
    without writing anything: invitees ready to add, duplicates (in the file or already on the guest list, by
    address) and rejected lines with their reason. The cleaning is the registrant import's."""
    report = GuestListReport()
    lines = _lines(data)
    try:
        _line, header = next(lines)
        header = [h.strip().lower() for h in header]
        missing = [c for c in ("first_name", "last_name", "email") if c not in header]
        if missing:
            report.error = _("Missing columns: %(columns)s.", columns=", ".join(missing))
            return report
        categories = category_lookup(event_id)
        known = {key: None for key in db.session.scalars(select(Invitation.email_key)
                                                         .where(Invitation.event_id == event_id))}
        seen: dict[str, int] = {}
        for line, values in lines:
            if not any(v.strip() for v in values):
                continue
            if len(report.ready) + len(report.rejected) + len(report.duplicates) >= IMPORT_MAX_ROWS:
                report.rejected.append((line, _("Too many rows: at most %(num)d per file.", num=IMPORT_MAX_ROWS)))
                break
            row = dict(zip(header, (v.strip() for v in values), strict=False))
            _check_row(report, line, row, categories, known, seen)
    except StopIteration:
        report.error = _("The file is empty.")
    except UnreadableFile as error:
        report.error = _("The file cannot be read: %(error)s", error=str(error))
    return report


def _language(value: str) -> str | None:
    value = (value or "fr").strip().lower()
    return value if value in LANGUAGES else None


def _cleaned(first_name: str, last_name: str, email: str, organisation: str) -> RegistrationDetails:
    """The invitee's details cleaned as a registrant's are (raises InvalidDetails)."""
    return clean_details(RegistrationDetails(first_name=first_name, last_name=last_name, email=email,
                                             organisation=organisation, consent_privacy=False))


def _check_row(report: GuestListReport, line: int, row: dict, categories: dict[str, int],
               known: dict[str, None], seen: dict[str, int]) -> None:
    category_name = row.get("category", "")
    category_id = categories.get(category_name.casefold()) if category_name else None
    if category_name and category_id is None:
        report.rejected.append((line, _("Unknown category “%(name)s”.", name=category_name)))
        return
    language = _language(row.get("language", ""))
    if language is None:
        report.rejected.append((line, _("Unknown language “%(name)s”: fr or en.", name=row.get("language", ""))))
        return
    try:
        details = _cleaned(row.get("first_name", ""), row.get("last_name", ""), row.get("email", ""),
                           row.get("organisation", ""))
    except InvalidDetails as invalid:
        report.rejected.append((line, field_errors(invalid)))
        return
    key = email_key(details.email)
    if key in known:
        report.duplicates.append((line, details.email, _("already on the guest list")))
    elif key in seen:
        report.duplicates.append((line, details.email, _("already in the file, line %(line)d", line=seen[key])))
    else:
        seen[key] = line
        report.ready.append(Invitee(line, details.first_name, details.last_name, details.email,
                                    details.organisation, category_id, language))


def import_guest_list(event_id: int, data: bytes, *, user=None) -> GuestListReport:
    """Add the invitees of a guest list (CSV or XLSX) to the event, not sent yet: one transaction for the file,
    recorded in the audit log with its counts. An address added meanwhile by someone else counts as a duplicate."""
    report = read_guest_list(event_id, data)
    if report.error:
        return report
    with write_transaction():
        known = set(db.session.scalars(select(Invitation.email_key).where(Invitation.event_id == event_id)))
        for invitee in report.ready:
            key = email_key(invitee.email)
            if key in known:
                report.duplicates.append((invitee.line, invitee.email, _("already on the guest list")))
                continue
            db.session.add(_invitation(event_id, invitee, key))
            report.added.append((invitee.line, invitee.email))
        report.ready = []
        report.duplicates.sort()
        record("invitations.import", event_id=event_id, target_type="event", target_id=event_id,
               details=report.summary(), user=user)
    return report


def _invitation(event_id: int, invitee: Invitee, key: str) -> Invitation:
    return Invitation(event_id=event_id, first_name=invitee.first_name, last_name=invitee.last_name,
                      email=invitee.email, email_key=key, organisation=invitee.organisation,
                      category_id=invitee.category_id, language=invitee.language, state=NOT_SENT, token_salt="",
                      reminders=0, decline_message="")


def add_invitee(event_id: int, *, first_name: str, last_name: str, email: str, organisation: str = "",
                category_id: int | None = None, language: str = "fr", user=None) -> int:
    """Add one invitee by hand (not sent yet); returns the invitation's id. Raises InvalidDetails (field name →
    message; `email` when the address is on the guest list already), InvitationNotFound (no such event)."""
    details = _cleaned(first_name, last_name, email, organisation)
    errors = {}
    if _language(language) is None:
        errors["language"] = str(_l("Choose French or English."))
    with write_transaction():
        if db.session.get(Event, event_id) is None:
            raise InvitationNotFound()
        if category_id is not None and category_id not in category_lookup(event_id).values():
            errors["category_id"] = str(_l("Choose a category from the list."))
        key = email_key(details.email)
        if db.session.scalar(select(Invitation.id).where(Invitation.event_id == event_id,
                                                         Invitation.email_key == key)):
            errors["email"] = str(_l("This address is already on the guest list."))
        if errors:
            raise InvalidDetails(errors)
        invitation = _invitation(event_id, Invitee(0, details.first_name, details.last_name, details.email,
                                                   details.organisation, category_id, _language(language)), key)
        db.session.add(invitation)
        db.session.flush()
        record("invitation.add", event_id=event_id, target_type="invitation", target_id=invitation.id, user=user)
        return invitation.id


# --- sending ----------------------------------------------------------------------------------------------

def _event_still_ahead(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        raise InvitationNotFound()
    if has_ended(event):
        raise EventEnded()
    return event


def has_ended(event: Event, now: datetime | None = None) -> bool:
    return event.ends_at <= (now or utcnow())


def send_invitations(event_id: int, *, user=None) -> int:
    """Send their invitation to the invitees never sent one: each gets its personal link (drawn now) and becomes
    *invited*. Run again, it sends nothing. Recorded in the audit log with the count; returns it.
    Raises EventEnded, InvitationNotFound."""
    with write_transaction():
        _event_still_ahead(event_id)
        invitations = _locked(Invitation.state == NOT_SENT, event_id=event_id)
        now = utcnow()
        for invitation in invitations:
            invitation.token_salt, _token, invitation.token_hash = new_link(invitation.id)
            invitation.state, invitation.sent_at = INVITED, now
            _record_mail(invitation, reminder=False)
        record("invitations.send", event_id=event_id, target_type="event", target_id=event_id,
               details={"sent": len(invitations)}, user=user)
        return len(invitations)


def send_reminders(event_id: int, *, user=None) -> int:
    """Send one reminder to each invitee still *invited* (neither registered nor declined) whose last invitation
    or reminder is older than INVITATION_REMIND_AFTER seconds. Run again, it sends nothing. Recorded in the
    audit log with the count; returns it. Raises EventEnded, InvitationNotFound."""
    with write_transaction():
        _event_still_ahead(event_id)
        now = utcnow()
        cutoff = now - timedelta(seconds=current_app.config["INVITATION_REMIND_AFTER"])
        last_sent = func.coalesce(Invitation.reminded_at, Invitation.sent_at)
        invitations = _locked(Invitation.state == INVITED, last_sent < cutoff, event_id=event_id)
        for invitation in invitations:
            invitation.reminded_at, invitation.reminders = now, invitation.reminders + 1
            _record_mail(invitation, reminder=True)
        record("invitations.remind", event_id=event_id, target_type="event", target_id=event_id,
               details={"sent": len(invitations)}, user=user)
        return len(invitations)


def _locked(*conditions, event_id: int) -> list[Invitation]:
    """The event's invitations that meet `conditions`, locked (PostgreSQL re-checks them on rows another run
    changed meanwhile, so that two runs at once send each invitation once)."""
    return list(db.session.scalars(select(Invitation).where(Invitation.event_id == event_id, *conditions)
                                   .order_by(Invitation.id).with_for_update()))


def _record_mail(invitation: Invitation, *, reminder: bool) -> OutboxMessage:
    return enqueue_to_compose(COMPOSE_KIND, {"invitation_id": invitation.id, "reminder": reminder},
                              to_addr=invitation.email, event_id=invitation.event_id)


def invitation_url(invitation: Invitation) -> str:
    """The absolute personal link (the token is re-derived from the stored salt, never stored)."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/invitations/{current_token(invitation)}"


def write_mail(message: OutboxMessage, about: dict) -> None:
    """Outbox composer: the invitation (or reminder) in the invitee's language, from the organiser, with the
    event's practical information and the personal link. Nothing is sent to an invitee who answered (or was
    removed) before it was written: the message is deleted."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.id == about["invitation_id"])
                                   .options(joinedload(Invitation.event).joinedload(Event.venue)))
    if invitation is None or invitation.state is not INVITED:
        db.session.delete(message)
        return
    event, locale = invitation.event, invitation.language
    images = header_images(event)
    with force_locale(locale):
        title = event.text("title", locale)
        subject = (_("Reminder: you are invited to %(title)s", title=title) if about.get("reminder")
                   else _("Invitation: %(title)s", title=title))
        context = {"invitation": invitation, "event": event, "locale": locale, "reminder": about.get("reminder"),
                   "invitation_url": invitation_url(invitation), "logo_cid": LOGO_CID if images else None}
        text_body = render_template("mail/invitation.txt", **context)
        html_body = render_template("mail/invitation.html", subject=subject, **context)
    write(message, invitation.email, subject, text_body, html_body, inline_images=images,
          **event.mail_identity(locale))


# --- the invitee's answers --------------------------------------------------------------------------------

def find_by_token(token: str, *, lock: bool = False) -> Invitation | None:
    """The invitation a personal link opens, with its event and venue, or None (unknown, malformed)."""
    if not looks_like_token(token):
        return None
    query = (select(Invitation).where(Invitation.token_hash == hash_token(token))
             .options(joinedload(Invitation.event).joinedload(Event.venue)))
    invitation = db.session.scalar(query.with_for_update(of=Invitation) if lock else query)
    if invitation is None or not tokens_match(token, invitation.token_hash):
        return None
    return invitation


def open_invitation(token: str) -> Invitation | None:
    """The invitation of a personal link, as `find_by_token`; the first opening is recorded (`opened_at`)."""
    invitation = find_by_token(token)
    if invitation is None or invitation.opened_at is not None:
        return invitation
    with write_transaction():
        db.session.execute(update(Invitation).where(Invitation.id == invitation.id, Invitation.opened_at.is_(None))
                           .values(opened_at=utcnow()), execution_options={"synchronize_session": False})
    return find_by_token(token)


def decline(token: str, message: str = "") -> None:
    """The invitee declines, with an optional message to the organisers (declining again replaces it).
    Raises InvitationNotFound, EventEnded, AlreadyRegistered, InvalidDetails({"message": …})."""
    try:
        message = text.clean_text(message, multiline=True, max_length=DECLINE_MESSAGE_MAX)
    except text.RefusedText as refused:
        raise InvalidDetails({"message": refused.message(_("Message"))}) from None
    with write_transaction():
        invitation = find_by_token(token, lock=True)
        if invitation is None:
            raise InvitationNotFound()
        if has_ended(invitation.event):
            raise EventEnded()
        if invitation.state is REGISTERED:
            raise AlreadyRegistered()
        invitation.state, invitation.answered_at, invitation.decline_message = DECLINED, utcnow(), message
        record("invitation.decline", event_id=invitation.event_id, target_type="invitation",
               target_id=invitation.id)


def registration_created(event_id: int, registration_id: int, email_key: str) -> list[tuple]:
    """Subscriber of `seminar.registration.signals.registration_created`: the statement that makes the invitee of
    that address, if any, *registered* with the registration, for the registering transaction to send after the
    registration's own rows (in its one round trip)."""
    statement = (update(Invitation).where(Invitation.event_id == event_id, Invitation.email_key == email_key)
                 .values(state=REGISTERED.name, registration_id=registration_id, answered_at=utcnow()))
    return [(statement, {})]


# --- reading the guest list -------------------------------------------------------------------------------

def guest_list_status(event_id: int) -> dict[str, int]:
    """invited (ever sent an invitation), registered, declined, pending (sent, no answer yet)."""
    rows = db.session.execute(select(Invitation.state, func.count(), func.count(Invitation.sent_at))
                              .where(Invitation.event_id == event_id).group_by(Invitation.state)).all()
    by_state = {state: count for state, count, _sent in rows}
    return {"invited": sum(sent for _state, _count, sent in rows), "registered": by_state.get(REGISTERED, 0),
            "declined": by_state.get(DECLINED, 0), "pending": by_state.get(INVITED, 0)}
