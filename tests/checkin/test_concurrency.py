"""Two desks scanning the same badge at the same moment, through a real threaded server: one check-in."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from seminar.accounts.models import Role
from seminar.audit.models import AuditEntry
from seminar.extensions import db
from seminar.registration.models import SessionAttendance
from tests.accounts.factories import PASSWORD, make_user
from tests.checkin.conftest import DESK, code_for, registration_row, round_table_ids

DESKS = 2
SCANS_PER_DESK = 4


def _desk_opener(base_url: str, email: str):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD}).encode()
    opener.open(f"{base_url}/login", body)  # follows the redirect to the desk; the cookie is kept
    return opener


def _post_json(opener, url: str, payload: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1, the live_server fixture)
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with opener.open(request, timeout=30) as response:
        return json.loads(response.read())


def _simultaneous_scans(app, live_server, payload: dict) -> list[dict]:
    openers = []
    for n in range(DESKS):
        email = f"desk{n}@example.org"
        make_user(app, Role.checkin, email)
        openers.append((email, _desk_opener(live_server, email)))
    barrier = threading.Barrier(DESKS * SCANS_PER_DESK)
    answers: list[dict] = []
    errors: list[BaseException] = []

    def scan(opener):
        try:
            barrier.wait(timeout=30)
            answers.append(_post_json(opener, f"{live_server}{DESK}/scan", payload))
        except BaseException as error:  # reported below, with the statuses
            errors.append(error)

    threads = [threading.Thread(target=scan, args=(opener,)) for _email, opener in openers
               for _ in range(SCANS_PER_DESK)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return answers


def test_simultaneous_scans_from_two_desks_record_one_check_in(app, live_server, people):
    answers = _simultaneous_scans(app, live_server, {"code": code_for(people["camille"])})

    statuses = sorted(a["status"] for a in answers)
    assert statuses == ["already_checked_in"] * (DESKS * SCANS_PER_DESK - 1) + ["checked_in"]
    winner = next(a for a in answers if a["status"] == "checked_in")
    assert {a["checked_in_at"] for a in answers} == {winner["checked_in_at"]}
    assert {a["checked_in_by"] for a in answers} == {winner["checked_in_by"]}
    assert registration_row(app, people["camille"]).checked_in_at.isoformat() == winner["checked_in_at"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "checkin.check_in")) == 1


def test_simultaneous_session_scans_record_one_attendance(app, live_server, people, seeded):
    table = round_table_ids(seeded)[0]

    answers = _simultaneous_scans(app, live_server, {"code": code_for(people["camille"]), "session_id": table})

    assert sorted(a["status"] for a in answers).count("checked_in") == 1
    assert {a["status"] for a in answers} == {"checked_in", "already_checked_in"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SessionAttendance)) == 1
