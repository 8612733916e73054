"""What a registrant may type: trimmed, length-limited, no control characters, any Unicode name (the
cleaning is `seminar.text`'s, shared with the back-office; the messages here are the registrant's).

Shared by the web form (as WTForms validators) and the services (which re-check whatever reaches them,
from imports or the back-office too). Messages are lazy so that they follow the reader's language.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from seminar import text

# Field limits follow the columns (Registration in models.py); free texts are bounded too.
LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "organisation": 200,
    "job_title": 200,
    "dietary": 1000,
    "accessibility": 1000,
}
MULTILINE = {"dietary", "accessibility"}
REQUIRED = {"first_name", "last_name", "email"}


class InvalidDetails(ValueError):
    """Some fields are not acceptable; `errors` maps field names to a message for the registrant."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def clean_text(field: str, value: str | None) -> str:
    """Trim and check one text field (`seminar.text.clean_text`: line separators pasted into a one-line field
    become spaces); raises InvalidDetails({field: message})."""
    try:
        value = text.clean_text(value, multiline=field in MULTILINE, max_length=LIMITS[field])
    except text.RefusedText as refused:
        message = (_l("This field contains characters that are not allowed.") if refused.character
                   else _l("At most %(max)d characters, please.", max=LIMITS[field]))
        raise InvalidDetails({field: str(message)}) from None
    if field in REQUIRED and not value:
        raise InvalidDetails({field: str(_l("This field is required."))})
    return value


def clean_email(value: str | None) -> str:
    """A syntactically valid address (no DNS lookup), trimmed, as typed."""
    value = clean_text("email", value)
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidDetails({"email": str(_l("Enter a valid e-mail address, such as name@example.org."))}) from None
    return value


def email_key(email: str) -> str:
    """One registration per address and event: the address normalised and case-folded."""
    try:
        normalized = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        normalized = email.strip()
    return normalized.casefold()
