"""The check-in desk (/checkin): the page, its JSON API, badge reprints, and the attendance export.

Every route needs the checkin, organiser or admin role (one before_request, see `require_roles`); the
attendance export, which lists everyone's details, is kept to organisers and admins by a blueprint of its own.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from seminar.accounts.access import DOOR, STAFF, require_roles
from seminar.checkin import services
from seminar.checkin.services import CheckinError, CheckinResult, LiveCounts
from seminar.database import writes_through_services
from seminar.events.models import Event
from seminar.events.services import list_events
from seminar.extensions import db
from seminar.formatting import locale_code
from seminar.inputs import parse_id

bp = require_roles(Blueprint("checkin", __name__, url_prefix="/checkin"), *DOOR)
exports_bp = require_roles(Blueprint("checkin_exports", __name__, url_prefix="/checkin"), *STAFF)


def _event_or_404(slug: str) -> Event:
    # The event row alone: the desk needs its id and time zone, not the programme get_event() preloads.
    event = db.session.scalar(select(Event).where(Event.slug == slug))
    if event is None:
        abort(404)
    return event


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _BadRequest(_("Send a JSON object."))
    return body


class _BadRequest(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@bp.errorhandler(_BadRequest)
@bp.errorhandler(CheckinError)
def _refused(error):
    return jsonify(error=str(error.message)), (400 if isinstance(error, _BadRequest) else 409)


def _optional_id(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    number = parse_id(value)
    if number is None:
        raise _BadRequest(_("%(name)s must be a number.", name=name))
    return number


# --- pages -------------------------------------------------------------------------------------------------

@bp.get("/")
def index():
    return render_template("checkin/index.html", events=list_events())


@bp.get("/<slug>")
def desk(slug: str):
    event = _event_or_404(slug)
    return render_template("checkin/desk.html", desk_event=event, round_tables=services.round_tables(event),
                           counts=counts_json(services.live_counts(event)), can_export=current_user.role in STAFF)


# --- JSON API ----------------------------------------------------------------------------------------------

@bp.post("/<slug>/scan")
@writes_through_services
def scan(slug: str):
    event = _event_or_404(slug)
    body = _json_body()
    code = body.get("code")
    if not isinstance(code, str):
        raise _BadRequest(_("Send the scanned code as text."))
    result = services.check_in_code(event.id, code, user_id=current_user.id,
                                    session_id=_optional_id(body, "session_id"), locale=locale_code())
    return jsonify(result_json(event, result))


@bp.post("/<slug>/registrations/<int:registration_id>/check-in")
@writes_through_services
def check_in(slug: str, registration_id: int):
    event = _event_or_404(slug)
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise _BadRequest(_("Send a JSON object."))
    result = services.check_in(event.id, registration_id, user_id=current_user.id,
                               session_id=_optional_id(body, "session_id"), locale=locale_code())
    return jsonify(result_json(event, result))


@bp.post("/<slug>/undo")
@writes_through_services
def undo(slug: str):
    event = _event_or_404(slug)
    body = _json_body()
    registration_id = _optional_id(body, "registration_id")
    try:
        checked_in_at = datetime.fromisoformat(str(body.get("checked_in_at")))
    except ValueError:
        checked_in_at = None
    if registration_id is None or checked_in_at is None or checked_in_at.tzinfo is None:
        raise _BadRequest(_("Say which check-in to undo."))
    services.undo(event.id, registration_id, user_id=current_user.id, checked_in_at=checked_in_at,
                  session_id=_optional_id(body, "session_id"))
    return jsonify(status="undone", message=_("Check-in undone."))


@bp.get("/<slug>/search")
def search(slug: str):
    event = _event_or_404(slug)
    query = request.args.get("q", "")[:200]
    hits = services.search(event.id, query, locale=locale_code())
    return jsonify(results=[
        {"registration": registrant_json(event, hit.registrant), "email": hit.email,
         "checked_in_at": _iso(hit.checked_in_at), "checked_in_time": _time(event, hit.checked_in_at)}
        for hit in hits])


@bp.get("/<slug>/counts")
def counts(slug: str):
    event = _event_or_404(slug)
    return jsonify(counts_json(services.live_counts(event)))


# --- badge reprint -----------------------------------------------------------------------------------------

@bp.get("/<slug>/badge/<int:registration_id>.pdf")
def badge(slug: str, registration_id: int):
    """A fresh A6 badge for one confirmed registrant, through the badges service (cached renderer)."""
    from seminar.badges.services import export_badges

    event = _event_or_404(slug)
    pdf, count = export_badges(event.id, registration_ids=[registration_id], status="confirmed", layout="a6")
    if count == 0:
        abort(404, description=_("A badge is printed only for a confirmed registrant of this event."))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="badge-{registration_id}.pdf"', "Cache-Control": "private, no-store"})


# --- attendance export (organisers and admins) -------------------------------------------------------------

@exports_bp.get("/<slug>/attendance.<any(csv, xlsx):fmt>")
def attendance_export(slug: str, fmt: str):
    from seminar.admin import spreadsheets
    from seminar.audit.services import record_now

    event = _event_or_404(slug)
    sheets = services.attendance_sheets(event, locale_code())
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        content, mimetype = spreadsheets.xlsx_bytes(sheets), spreadsheets.XLSX_MIMETYPE
    else:
        _title, header, rows = sheets[0]
        delimiter = ";" if request.args.get("delimiter") == ";" else ","
        content, mimetype = spreadsheets.csv_bytes(header, rows, delimiter=delimiter), spreadsheets.CSV_MIMETYPE
    record_now("checkin.export", event_id=event.id, target_type="event", target_id=event.id,
               details={"format": fmt, "rows": len(sheets[0][2])})
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{event.slug}-attendance-{stamp}.{fmt}"'})


# --- JSON shapes -------------------------------------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _time(event: Event, moment: datetime | None) -> str | None:
    return event.local(moment).strftime("%H:%M") if moment else None


def registrant_json(event: Event, registrant) -> dict:
    return {
        "id": registrant.id,
        "name": registrant.name,
        "organisation": registrant.organisation,
        "category": registrant.category,
        "status": registrant.status,
        "round_tables": [{"id": seat.id, "title": seat.title, "starts_at": _iso(seat.starts_at),
                          "time": _time(event, seat.starts_at)} for seat in registrant.round_tables],
    }


def _message(event: Event, result: CheckinResult) -> str:
    if result.status == services.CHECKED_IN:
        if result.session_id is not None:
            return _("Checked in at this session")
        return _("Checked in")
    if result.status == services.ALREADY_CHECKED_IN:
        return _("Already checked in at %(time)s by %(desk)s", time=_time(event, result.checked_in_at),
                 desk=result.checked_in_by or _("a desk"))
    if result.status == services.WAITLISTED:
        return _("On the waiting list: not admitted")
    if result.status == services.CANCELLED:
        return _("Registration cancelled: not admitted")
    return _("Unknown or forged code")


def result_json(event: Event, result: CheckinResult) -> dict:
    """The contract of POST /checkin/<slug>/scan (status values are fixed, see CONTRACTS.md)."""
    return {
        "status": result.status,
        "message": _message(event, result),
        "registration": registrant_json(event, result.registrant) if result.registrant else None,
        "checked_in_at": _iso(result.checked_in_at),
        "checked_in_time": _time(event, result.checked_in_at),
        "checked_in_by": result.checked_in_by,
        "session_id": result.session_id,
        "without_seat": result.without_seat,
        "warning": _("No seat booked at this session: let in and noted.") if result.without_seat else None,
        "undo_seconds": int(services.UNDO_WINDOW.total_seconds()) if result.status == services.CHECKED_IN else 0,
    }


def counts_json(counts: LiveCounts) -> dict:
    locale = locale_code()
    return {
        "checked_in": counts.total.checked_in,
        "expected": counts.total.expected,
        "categories": [{"id": c.id if c else None, "label": c.label_for(locale) if c else _("No category"),
                        "checked_in": t.checked_in, "expected": t.expected} for c, t in counts.categories],
        "round_tables": [{"id": s.id, "title": s.title, "checked_in": t.checked_in, "expected": t.expected,
                          "attending": attending} for s, t, attending in counts.round_tables],
    }
