"""The audit log page (/admin/audit), for admins only."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from seminar.accounts.access import require_roles
from seminar.accounts.models import Role
from seminar.audit.describe import ACTION_FAMILIES
from seminar.audit.services import recent_entries
from seminar.events.services import list_events

bp = require_roles(Blueprint("audit", __name__, url_prefix="/admin/audit"), Role.admin)
PAGE_SIZE = 100


@bp.get("/")
def log():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    event_id = request.args.get("event", type=int)
    entries = recent_entries(event_id=event_id, action_prefix=request.args.get("action", "")[:80],
                             limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    events = {e.id: e for e in list_events()}
    return render_template("audit/log.html", entries=entries[:PAGE_SIZE], has_more=len(entries) > PAGE_SIZE,
                           page=page, events=events, event_id=event_id, families=ACTION_FAMILIES)
