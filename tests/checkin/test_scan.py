"""POST /checkin/<slug>/scan: every status of the contract, forged codes, idempotence, bad input."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from seminar.audit.models import AuditEntry
from seminar.extensions import db
from tests.checkin.conftest import DESK, code_for, registration_row, scan


def test_scan_valid_code_checks_in(app, people, desk):
    response = scan(desk, code_for(people["camille"]))

    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "checked_in"
    assert data["registration"]["id"] == people["camille"]
    assert data["registration"]["name"] == "Camille Durand"
    assert data["registration"]["organisation"] == "Cancéropôle Est"
    assert data["registration"]["category"]
    assert [t["title"] for t in data["registration"]["round_tables"]]
    assert data["checked_in_by"] == "checkin@example.org"
    stored = registration_row(app, people["camille"])
    assert stored.checked_in_at == datetime.fromisoformat(data["checked_in_at"])
    assert stored.checked_in_by_id is not None


def test_scan_repeated_code_reports_the_first_check_in(app, people, desk):
    first = scan(desk, code_for(people["camille"])).get_json()

    again = scan(desk, code_for(people["camille"])).get_json()

    assert again["status"] == "already_checked_in"
    assert again["checked_in_at"] == first["checked_in_at"]
    assert again["checked_in_by"] == "checkin@example.org"
    assert again["checked_in_time"] in again["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "checkin.check_in")) == 1


def test_scan_lowercase_code_with_spaces_is_accepted(people, desk):
    assert scan(desk, f"  {code_for(people['camille']).lower()}\n").get_json()["status"] == "checked_in"


def test_scan_forged_or_altered_code_is_invalid(app, people, desk):
    genuine = code_for(people["camille"])
    prefix, number, signature = genuine.split("-")
    altered_signature = f"{prefix}-{number}-{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    other_number = f"{prefix}-{people['hélène']}-{signature}"
    from seminar.badges.codes import make_code_for_id
    other_secret = make_code_for_id(people["camille"], secret_key="another-installation")

    for code in (altered_signature, other_number, other_secret, "", "hello", "SEM1-1-", "x" * 500):
        data = scan(desk, code).get_json()
        assert data["status"] == "invalid", code
        assert data["registration"] is None
    assert registration_row(app, people["camille"]).checked_in_at is None
    assert registration_row(app, people["hélène"]).checked_in_at is None


def test_scan_code_of_unknown_registration_is_invalid(desk, people):
    assert scan(desk, code_for(999_999)).get_json()["status"] == "invalid"


def test_scan_code_for_another_event_is_invalid(app, people, desk):
    data = scan(desk, code_for(people["elsewhere"])).get_json()

    assert data["status"] == "invalid"
    assert data["registration"] is None
    assert registration_row(app, people["elsewhere"]).checked_in_at is None


def test_scan_waitlisted_registrant_is_not_admitted(app, people, desk):
    data = scan(desk, code_for(people["waitlisted"])).get_json()

    assert data["status"] == "waitlisted"
    assert data["registration"]["name"] == "Wanda Attente"
    assert data["checked_in_at"] is None
    assert registration_row(app, people["waitlisted"]).checked_in_at is None


def test_scan_cancelled_registrant_is_not_admitted(app, people, desk):
    data = scan(desk, code_for(people["cancelled"])).get_json()

    assert data["status"] == "cancelled"
    assert data["registration"]["name"] == "Cyril Annule"
    assert registration_row(app, people["cancelled"]).checked_in_at is None


def test_scan_without_a_code_is_refused_clearly(desk, people):
    for body in ({}, {"code": 12}, {"code": None}, ["SEM1"]):
        response = desk.post(f"{DESK}/scan", json=body)
        assert response.status_code == 400
        assert response.get_json()["error"]
    response = desk.post(f"{DESK}/scan", data="code=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_scan_on_unknown_event_is_404(desk, people):
    assert desk.post("/checkin/nope/scan", json={"code": code_for(people["camille"])}).status_code == 404


def test_check_in_by_registration_id_from_search(app, people, desk):
    url = f"{DESK}/registrations/{people['hélène']}/check-in"

    first = desk.post(url, json={}).get_json()
    second = desk.post(url).get_json()

    assert first["status"] == "checked_in" and second["status"] == "already_checked_in"
    assert desk.post(f"{DESK}/registrations/{people['elsewhere']}/check-in").get_json()["status"] == "invalid"
    assert desk.post(f"{DESK}/registrations/{people['waitlisted']}/check-in").get_json()["status"] == "waitlisted"


def test_scan_in_french_by_default_and_english_on_request(desk, people):
    code = code_for(people["waitlisted"])
    assert scan(desk, code).get_json()["message"] == "Sur liste d’attente\u00a0: non admis"
    desk.get(f"{DESK}?lang=en")
    assert scan(desk, code).get_json()["message"] == "On the waiting list: not admitted"
