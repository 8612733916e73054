"""Locale-aware display of dates and times in the event's own timezone: British English ("28 Nov 2026, 09:00")
in English, "28 nov. 2026, 09:00" in French, never with seconds."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import dates
from flask_babel import get_locale as _get_locale

# Babel's named formats whose time part shows seconds: their date is joined to the short time instead.
_NAMED_WITH_SECONDS = frozenset({"medium", "long", "full"})


def _in_zone(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def locale_code() -> str:
    return str(_get_locale() or "fr")


def format_locale(code: str | None = None) -> str:
    """The Babel locale that formats dates for a language of the interface: English reads en-GB."""
    code = code or locale_code()
    return "en_GB" if code.startswith("en") else code


def local_time(moment: datetime | None, tz: str = "Europe/Paris", locale: str | None = None) -> str:
    if moment is None:
        return ""
    return dates.format_time(_in_zone(moment, tz), "short", locale=format_locale(locale))


def local_date(moment: datetime | None, tz: str = "Europe/Paris", fmt: str = "full", locale: str | None = None) -> str:
    if moment is None:
        return ""
    return dates.format_date(_in_zone(moment, tz).date(), fmt, locale=format_locale(locale))


def day(value, fmt: str = "medium") -> str:
    """A calendar day (a `date`, no time zone to apply) in the reader's language: "28 nov. 2026"."""
    return dates.format_date(value, fmt, locale=format_locale()) if value else ""


def local_datetime(moment: datetime | None, tz: str = "Europe/Paris", fmt: str = "medium",
                   locale: str | None = None) -> str:
    """A day and time: "28 nov. 2026, 09:00"; `fmt` is a Babel format name or pattern."""
    if moment is None:
        return ""
    moment, babel_locale = _in_zone(moment, tz), format_locale(locale)
    if fmt in _NAMED_WITH_SECONDS:
        return (f"{dates.format_date(moment.date(), fmt, locale=babel_locale)}, "
                f"{dates.format_time(moment, 'short', locale=babel_locale)}")
    return dates.format_datetime(moment, fmt, locale=babel_locale)


def by_day(sessions, tz: str = "Europe/Paris") -> list[tuple[date, list]]:
    """Sessions (in time order) grouped by their day in the event's timezone, in order: [(day, sessions)]."""
    days: dict[date, list] = {}
    for session in sessions:
        days.setdefault(_in_zone(session.starts_at, tz).date(), []).append(session)
    return list(days.items())


def spans_days(event) -> bool:
    """Whether the event runs over more than one day in its own timezone."""
    return _in_zone(event.starts_at, event.timezone).date() != _in_zone(event.ends_at, event.timezone).date()
