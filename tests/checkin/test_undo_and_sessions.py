"""Undo within a minute, only the same check-in by the same desk; per-session check-in with flagging."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.checkin import services
from seminar.extensions import db
from seminar.registration.models import SessionAttendance
from tests.accounts.factories import signed_in_client
from tests.checkin.conftest import DESK, code_for, registration_row, round_table_ids, scan


def _undo(client, answer, **extra):
    return client.post(f"{DESK}/undo", json={"registration_id": answer["registration"]["id"],
                                             "checked_in_at": answer["checked_in_at"],
                                             "session_id": answer["session_id"], **extra})


def test_undo_within_a_minute_clears_the_check_in(app, people, desk):
    answer = scan(desk, code_for(people["camille"])).get_json()

    response = _undo(desk, answer)

    assert response.status_code == 200 and response.get_json()["status"] == "undone"
    stored = registration_row(app, people["camille"])
    assert stored.checked_in_at is None and stored.checked_in_by_id is None
    assert scan(desk, code_for(people["camille"])).get_json()["status"] == "checked_in"


def test_undo_after_a_minute_is_refused(app, people, desk, seeded):
    answer = scan(desk, code_for(people["camille"])).get_json()
    checked_in_at = datetime.fromisoformat(answer["checked_in_at"])
    user_id = registration_row(app, people["camille"]).checked_in_by_id

    with app.app_context(), pytest.raises(services.CheckinError):
        services.undo(seeded.id, people["camille"], user_id=user_id,
                      checked_in_at=checked_in_at, now=checked_in_at + timedelta(seconds=61))
    with app.app_context():
        services.undo(seeded.id, people["camille"], user_id=user_id, checked_in_at=checked_in_at,
                      now=checked_in_at + timedelta(seconds=59))
    assert registration_row(app, people["camille"]).checked_in_at is None


def test_undo_by_another_desk_is_refused(app, people, desk):
    answer = scan(desk, code_for(people["camille"])).get_json()
    other = signed_in_client(app, Role.organiser)

    response = _undo(other, answer)

    assert response.status_code == 409 and response.get_json()["error"]
    assert registration_row(app, people["camille"]).checked_in_at is not None


def test_undo_only_takes_back_that_check_in(app, people, desk):
    first = scan(desk, code_for(people["camille"])).get_json()
    _undo(desk, first)
    second = scan(desk, code_for(people["camille"])).get_json()

    assert _undo(desk, first).status_code == 409
    assert registration_row(app, people["camille"]).checked_in_at.isoformat() == second["checked_in_at"]


def test_undo_with_bad_input_is_a_clear_400(desk, people):
    for body in ({}, {"registration_id": "x", "checked_in_at": "2024-01-01T00:00:00+00:00"},
                 {"registration_id": 1, "checked_in_at": "yesterday"}, {"registration_id": 1,
                                                                         "checked_in_at": "2024-01-01T00:00:00"}):
        response = desk.post(f"{DESK}/undo", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]


def test_session_check_in_with_a_seat_records_attendance(app, people, desk, seeded):
    table = round_table_ids(seeded)[0]

    data = scan(desk, code_for(people["camille"]), session_id=table).get_json()

    assert data["status"] == "checked_in" and data["session_id"] == table
    assert data["without_seat"] is False and data["warning"] is None
    with app.app_context():
        attendance = db.session.scalar(select(SessionAttendance))
        assert (attendance.session_id, attendance.registration_id, attendance.without_seat) == (
            table, people["camille"], False)
    # The entrance check-in is separate.
    assert registration_row(app, people["camille"]).checked_in_at is None


def test_session_check_in_without_a_seat_is_flagged_not_blocked(app, people, desk, seeded):
    table = round_table_ids(seeded)[1]

    data = scan(desk, code_for(people["camille"]), session_id=table).get_json()
    again = scan(desk, code_for(people["camille"]), session_id=table).get_json()

    assert data["status"] == "checked_in" and data["without_seat"] is True and data["warning"]
    assert again["status"] == "already_checked_in" and again["without_seat"] is True
    with app.app_context():
        assert db.session.scalar(select(SessionAttendance.without_seat)) is True


def test_session_check_in_refuses_waitlisted_and_cancelled(desk, people, seeded):
    table = round_table_ids(seeded)[0]
    assert scan(desk, code_for(people["waitlisted"]), session_id=table).get_json()["status"] == "waitlisted"
    assert scan(desk, code_for(people["cancelled"]), session_id=table).get_json()["status"] == "cancelled"
    assert scan(desk, code_for(people["elsewhere"]), session_id=table).get_json()["status"] == "invalid"


def test_session_of_another_event_is_refused(desk, people):
    response = scan(desk, code_for(people["camille"]), session_id=999_999)
    assert response.status_code == 409 and response.get_json()["error"]
    assert scan(desk, code_for(people["camille"]), session_id="one").status_code == 400


def test_undo_session_attendance(app, people, desk, seeded):
    table = round_table_ids(seeded)[0]
    answer = scan(desk, code_for(people["camille"]), session_id=table).get_json()

    assert _undo(desk, answer).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(SessionAttendance)) is None
