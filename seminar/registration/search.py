"""Finding registrants by what someone types: every word, accents and case ignored ("helene hopital" finds
"Hélène … Hôpital"), in the first name, last name, e-mail or organisation. One rule for the back-office's
registrants table (and its exports and mailings) and the check-in desk."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from seminar.database import folded
from seminar.registration.models import Registration
from seminar.text import fold

SEARCHED = (Registration.first_name, Registration.last_name, Registration.email, Registration.organisation)
MAX_WORDS = 6


def search_words(query: str) -> list[str]:
    """The words of `query` as they are matched (folded), at most MAX_WORDS."""
    return fold(query).split()[:MAX_WORDS]


def matching_words(query: str) -> ColumnElement[bool] | None:
    """The condition that every word of `query` is found in one of SEARCHED; None when `query` has no word."""
    words = search_words(query)
    if not words:
        return None
    return and_(*(or_(*(folded(column).like(_like(word), escape="\\") for column in SEARCHED)) for word in words))


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
