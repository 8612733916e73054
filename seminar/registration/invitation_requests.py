"""A request for an invitation, from the public page of an invitation-only event: it reaches the organisers by
e-mail (through the outbox, replies going to the person who asked) and is kept nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.events.models import Event
from seminar.mail.outbox import enqueue
from seminar.registration import validation
from seminar.registration.validation import InvalidDetails
from seminar.text import RefusedText, clean_text

MESSAGE_MAX = 2000


@dataclass
class InvitationRequest:
    first_name: str
    last_name: str
    email: str
    organisation: str = ""
    message: str = ""


def request_invitation(event: Event, asked: InvitationRequest) -> None:
    """E-mail the organisers (the event's contact address) who asks for an invitation, in French, replies going
    to that person; raise InvalidDetails naming the fields to correct."""
    asked = _cleaned(asked)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Invitation request: %(title)s", title=event.title)
        context = {"event": event, "asked": asked, "subject": subject, "locale": "fr", "logo_cid": None}
        text_body = render_template("registration/invitation_request.txt", **context)
        html_body = render_template("registration/invitation_request.html", **context)
    with write_transaction():
        enqueue(event.contact_email or current_app.config["MAIL_FROM"], subject, text_body, html_body,
                event_id=event.id, sender_name=event.organiser, reply_to=asked.email)
        record("registration.invitation_request", event_id=event.id, target_type="event", target_id=event.id)


def _cleaned(asked: InvitationRequest) -> InvitationRequest:
    errors, values = {}, {}
    for field in ("first_name", "last_name", "organisation"):
        try:
            values[field] = validation.clean_text(field, getattr(asked, field))
        except InvalidDetails as invalid:
            errors.update(invalid.errors)
    try:
        values["email"] = validation.clean_email(asked.email)
    except InvalidDetails as invalid:
        errors.update(invalid.errors)
    try:
        values["message"] = clean_text(asked.message, multiline=True, max_length=MESSAGE_MAX)
    except RefusedText as refused:
        errors["message"] = str(_l("This field contains characters that are not allowed.") if refused.character
                                else _l("At most %(max)d characters, please.", max=MESSAGE_MAX))
    if errors:
        raise InvalidDetails(errors)
    return InvitationRequest(**values)
