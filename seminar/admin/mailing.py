"""E-mail to a filtered set of registrants, through the outbox (one message per person, one transaction)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from seminar.admin.registrants import RegistrantFilters, matching
from seminar.audit.services import record
from seminar.database import write_transaction
from seminar.events.models import Event
from seminar.events.programme import clean_texts
from seminar.mail.outbox import enqueue
from seminar.registration.notifications import LOGO_CID, header_images

PLACEHOLDERS = ("first_name", "last_name")
SUBJECT_MAX, BODY_MAX = 200, 20_000


@dataclass
class Mailing:
    subject: str
    body: str


def personalise(text: str, registration) -> str:
    """Replaces {first_name} and {last_name}; nothing else in the text is interpreted."""
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", getattr(registration, name))
    return text


def _footer(event: Event, locale: str) -> str:
    """The signature under an organiser's message, in the registrant's language."""
    lines = [event.text("title", locale), event.text("organiser", locale), event.contact_email]
    return "\n\n-- \n" + "\n".join(line for line in lines if line)


def recipients(event: Event, filters: RegistrantFilters) -> list:
    return [r for r in matching(event.id, filters) if r.email and not r.anonymised_at]


def send_mailing(event: Event, filters: RegistrantFilters, mailing: Mailing, *, user=None) -> int:
    """Queue the message for every matching registrant; returns how many were queued. The subject is made one
    line; a control character in it or the body raises ProgrammeError (a ValueError) naming the field."""
    texts = clean_texts({"subject": (mailing.subject, _l("Subject"), False, SUBJECT_MAX),
                         "body": (mailing.body, _l("Message"), True, BODY_MAX)})
    subject, body = texts["subject"], texts["body"]
    if not subject or not body:
        raise ValueError(_("A subject and a message are needed."))
    people = recipients(event, filters)
    with write_transaction():
        images = header_images(event)
        for person in people:
            locale = person.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
            text = personalise(body, person)
            with force_locale(locale):
                html = render_template("mail/message.html", event=event, locale=locale,
                                       logo_cid=LOGO_CID if images else None, subject=personalise(subject, person),
                                       paragraphs=text.split("\n\n"))
            enqueue(person.email, personalise(subject, person), text + _footer(event, locale), html,
                    event_id=event.id, registration_id=person.id, inline_images=images,
                    **event.mail_identity(locale))
        record("mailing.send", event_id=event.id, target_type="event", target_id=event.id,
               details={"subject": subject, "recipients": len(people), **filters.to_args()}, user=user)
    return len(people)
