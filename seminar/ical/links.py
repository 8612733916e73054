"""Add-to-calendar links: plain outbound links to Google Calendar and Outlook.com, pre-filled.

Nothing is loaded from those services: the page only links to them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.live.com/calendar/0/deeplink/compose"
SUMMARY_LIMIT = 500  # long query strings get cut by some browsers and by the services


def webcal(url: str) -> str:
    """The same feed for a subscription (`webcal://`, which calendar apps register for)."""
    parts = urlsplit(url)
    return urlunsplit(("webcal", *parts[1:]))


def google_url(title: str, starts_at: datetime, ends_at: datetime, details: str, location: str, tz: str) -> str:
    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    return GOOGLE + "?" + urlencode({
        "action": "TEMPLATE", "text": title, "dates": f"{stamp(starts_at)}/{stamp(ends_at)}",
        "details": details, "location": location, "ctz": tz,
    })


def outlook_url(title: str, starts_at: datetime, ends_at: datetime, details: str, location: str) -> str:
    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return OUTLOOK + "?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": title,
        "startdt": stamp(starts_at), "enddt": stamp(ends_at), "body": details, "location": location,
    })
