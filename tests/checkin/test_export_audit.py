"""The attendance export is recorded in the audit log, by a service that owns the write (the view commits nothing)."""

import pytest
from sqlalchemy import select

from seminar.audit.models import AuditEntry
from seminar.extensions import db
from tests.checkin.conftest import DESK


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_attendance_export_is_audited(app, organiser, people, seeded, fmt):
    response = organiser.get(f"{DESK}/attendance.{fmt}")

    assert response.status_code == 200
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin.export")).all()
        assert [(e.event_id, e.details, e.actor) for e in entries] == [
            (seeded.id, {"format": fmt, "rows": 4}, "organiser@example.org")]
