"""What a registrant may type: trimmed, length-limited, no control characters, any Unicode name.

Shared by the web form (as WTForms validators) and the services (which re-check whatever reaches them,
from imports or the back-office too). Messages are lazy so that they follow the reader's language.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

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


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """Control and format characters (NUL, escape, bidi overrides…) are refused; free texts keep newlines, tabs."""
    allowed = "\n\r\t" if multiline else ""
    for char in value:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Cn") or (category == "Cf" and char not in "\u200c\u200d"):
            return True
    return False


def clean_text(field: str, value: str | None) -> str:
    """Trim and check one text field; raises InvalidDetails({field: message})."""
    value = (value or "").strip()
    if field in REQUIRED and not value:
        raise InvalidDetails({field: str(_l("This field is required."))})
    if len(value) > LIMITS[field]:
        raise InvalidDetails({field: str(_l("At most %(max)d characters, please.", max=LIMITS[field]))})
    if has_control_characters(value, multiline=field in MULTILINE):
        raise InvalidDetails({field: str(_l("This field contains characters that are not allowed."))})
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
