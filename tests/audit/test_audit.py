"""The audit log: entries join the caller's transaction; the admin page lists them."""

from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.audit.models import AuditEntry
from seminar.audit.services import recent_entries, record
from seminar.extensions import db
from tests.accounts.factories import signed_in_client


def test_record_is_part_of_the_callers_transaction(ctx):
    record("test.rolled_back", details={"x": 1})
    db.session.rollback()
    record("test.kept", target_type="thing", target_id=7)
    db.session.commit()
    assert [e.action for e in recent_entries()] == ["test.kept"]
    assert recent_entries()[0].actor == "cli"


def test_recent_entries_filter_by_action_prefix_literally(ctx):
    for action in ("session.update", "session_x.update", "registration.cancel"):
        record(action)
    db.session.commit()
    assert [e.action for e in recent_entries(action_prefix="session.")] == ["session.update"]


def test_audit_page_lists_entries_with_escaped_details(app):
    admin = signed_in_client(app, Role.admin)
    with app.app_context():
        record("speaker.update", details={"name": "<b>x</b>"})
        db.session.commit()
    page = admin.get("/admin/audit/").get_data(as_text=True)
    assert "Intervenant·e modifié·e" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "Compte créé" in page  # the admin account created by the fixture
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.create")).actor == "cli"
