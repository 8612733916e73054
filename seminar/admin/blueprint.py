"""The back-office blueprint (/admin), open to organisers and admins only (checked once, in before_request)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request

from seminar.accounts.access import STAFF, require_roles
from seminar.events.models import Event
from seminar.events.services import get_event

bp = require_roles(Blueprint("admin", __name__, url_prefix="/admin"), *STAFF)


def event_or_404(slug: str) -> Event:
    event = get_event(slug)
    if event is None:
        abort(404)
    return event


def show_problems(form, problems: dict[str, str]) -> None:
    """Attach a service's refusals to the form's fields (or flash those about the whole form)."""
    for name, message in problems.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            flash(message, "error")


def notify_choice() -> bool | None:
    """The organiser's answer to "tell the registrants?" sent with a form: True, False, or None (not asked yet)."""
    return {"1": True, "0": False}.get(request.form.get("notify", ""))
