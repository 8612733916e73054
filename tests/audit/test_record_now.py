"""`record_now`: an audit entry for an action that writes nothing else (an export), in a write transaction of
its own, committed on return."""

import pytest
from sqlalchemy import select, text

from seminar.audit.models import AuditEntry
from seminar.audit.services import record_now
from seminar.database import PendingWrites, write_transaction
from seminar.extensions import db


def _saved_actions() -> list[str]:
    with db.engine.connect() as other:
        return list(other.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_record_now_commits_even_when_another_connection_wrote_since_the_read_began(ctx):
    """On SQLite the read transaction could not become a writer any more ("database is locked" at once)."""
    db.session.scalar(select(AuditEntry.id))  # a read transaction begins, as in an export view
    with db.engine.connect() as other:
        other.execute(text("INSERT INTO audit_entry (created_at, actor, action, target_type, details) "
                           "VALUES (CURRENT_TIMESTAMP, 'other', 'test.meanwhile', '', '{}')"))
        other.commit()

    record_now("test.export", target_type="event", target_id=1, details={"rows": 3})

    assert _saved_actions() == ["test.meanwhile", "test.export"]
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "test.export")) == {"rows": 3}


def test_record_now_inside_a_write_transaction_joins_it(ctx):
    with pytest.raises(ZeroDivisionError), write_transaction():
        record_now("test.joined")
        assert _saved_actions() == []
        1 / 0  # noqa: B018

    assert _saved_actions() == []


def test_record_now_does_not_commit_someone_elses_pending_write(ctx):
    db.session.add(AuditEntry(action="test.pending"))

    with pytest.raises(PendingWrites):
        record_now("test.export")

    assert _saved_actions() == []
    db.session.rollback()
