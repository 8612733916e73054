"""Recording and reading the audit log. `record` adds to the caller's transaction and never commits;
`record_now` is for an action that writes nothing else (an export): its entry has a write transaction of its own."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select

from seminar.audit.models import AuditEntry
from seminar.database import write_transaction
from seminar.extensions import db


def _acting_user():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def record(action: str, *, event_id: int | None = None, target_type: str = "", target_id: int | None = None,
           details: dict | None = None, user=None) -> AuditEntry:
    """Add an entry (who, what, on which object) to the current transaction.

    `user` defaults to the signed-in staff member; outside a request (CLI) the actor is recorded as "cli".
    """
    user = user or _acting_user()
    entry = AuditEntry(
        user_id=getattr(user, "id", None),
        actor=getattr(user, "email", None) or ("web" if has_request_context() else "cli"),
        event_id=event_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def record_now(action: str, *, event_id: int | None = None, target_type: str = "", target_id: int | None = None,
               details: dict | None = None, user=None) -> None:
    """Record an entry and commit it, in a write transaction of its own (inside a caller's `write_transaction`,
    in that one). A read transaction the caller left open is ended first where it could not become a writer:
    on SQLite, once another connection has written since it began ("database is locked" at once, e.g. during a
    rush of registrations)."""
    with write_transaction():
        record(action, event_id=event_id, target_type=target_type, target_id=target_id, details=details, user=user)


def recent_entries(*, event_id: int | None = None, action_prefix: str = "", limit: int = 50,
                   offset: int = 0) -> list[AuditEntry]:
    """Newest first, optionally for one event and one family of actions ("session.", "registration.")."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if event_id is not None:
        query = query.where(AuditEntry.event_id == event_id)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    return list(db.session.scalars(query.limit(limit).offset(offset)))
