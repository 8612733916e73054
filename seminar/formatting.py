"""Locale-aware display of dates and times in the event's own timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime, format_time
from flask_babel import get_locale as _get_locale


def _in_zone(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def local_time(moment: datetime | None, tz: str = "Europe/Paris") -> str:
    if moment is None:
        return ""
    # Babel converts to BABEL_DEFAULT_TIMEZONE itself when given a tz-aware value; hand it the event's.
    return format_time(_in_zone(moment, tz).replace(tzinfo=None), "short", rebase=False)


def local_date(moment: datetime | None, tz: str = "Europe/Paris", fmt: str = "full") -> str:
    if moment is None:
        return ""
    return format_date(_in_zone(moment, tz).date(), fmt)


def day(value, fmt: str = "medium") -> str:
    """A calendar day (a `date`, no time zone to apply) in the reader's language: "28 nov. 2026"."""
    return format_date(value, fmt) if value else ""


def local_datetime(moment: datetime | None, tz: str = "Europe/Paris", fmt: str = "medium") -> str:
    if moment is None:
        return ""
    return format_datetime(_in_zone(moment, tz).replace(tzinfo=None), fmt, rebase=False)


def locale_code() -> str:
    return str(_get_locale() or "fr")
