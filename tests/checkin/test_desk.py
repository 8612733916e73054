"""The desk page, search, live counts, roles, CSRF, badge reprint and the attendance export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from seminar.accounts.models import Role
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.registration.models import Registration
from tests.accounts.factories import signed_in_client
from tests.accounts.sweep import unprotected_routes
from tests.checkin.conftest import CSRF_META, DESK, code_for, login_with_csrf, round_table_ids, scan


def test_desk_page_for_a_checkin_account(desk, people):
    response = desk.get(DESK)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert CSRF_META.search(page)
    assert 'id="scan-code"' in page and "autofocus" in page
    assert 'id="search-q"' in page and 'data-counts-url="/checkin/' in page
    assert "checkin/desk.js" in page and "jsQR.js" in page  # the decoder's URL, loaded on demand
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script
    assert " style=" not in page  # no style attribute (strict CSP)
    assert "attendance.csv" not in page  # the export is for organisers
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]


def test_desk_index_lists_events(desk, people):
    page = desk.get("/checkin/").get_data(as_text=True)
    assert f'href="{DESK}"' in page


def test_desk_page_in_english_is_complete(desk, people):
    page = desk.get(f"{DESK}?lang=en").get_data(as_text=True)
    assert "Find someone without a badge" in page
    page = desk.get(f"{DESK}?lang=fr").get_data(as_text=True)
    assert "Trouver une personne sans badge" in page


def test_desk_requires_sign_in(client, people):
    response = client.get(DESK)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/checkin/")
    assert client.post(f"{DESK}/scan", json={"code": code_for(people["camille"])}).status_code == 401
    assert client.get(f"{DESK}/counts").status_code == 302


def test_checkin_routes_pass_the_authorisation_sweep(app, people):
    clients = {role: signed_in_client(app, role) for role in Role}
    failures = [f for f in unprotected_routes(app, clients) if "/checkin" in f]
    assert failures == []


def test_attendance_export_is_for_organisers_and_admins(desk, organiser, people):
    assert desk.get(f"{DESK}/attendance.csv").status_code == 403
    assert organiser.get(f"{DESK}/attendance.csv").status_code == 200
    assert "attendance.xlsx" in organiser.get(DESK).get_data(as_text=True)


@pytest.fixture
def app_config(request):
    return {"WTF_CSRF_ENABLED": True} if "csrf" in request.node.name else {}


def test_scan_csrf_enforced_when_enabled(app, people):
    client = login_with_csrf(app, Role.checkin)
    token = CSRF_META.search(client.get(DESK).get_data(as_text=True))[1]
    code = code_for(people["camille"])

    refused = client.post(f"{DESK}/scan", json={"code": code})
    accepted = client.post(f"{DESK}/scan", json={"code": code}, headers={"X-CSRFToken": token})

    assert refused.status_code == 400
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "checked_in"
    assert client.post(f"{DESK}/undo", json={}).status_code == 400
    assert client.post(f"{DESK}/registrations/{people['hélène']}/check-in").status_code == 400


def test_search_by_name_email_or_organisation(desk, people):
    def names(query):
        response = desk.get(f"{DESK}/search", query_string={"q": query})
        assert response.status_code == 200
        return [hit["registration"]["name"] for hit in response.get_json()["results"]]

    assert names("helene") == ["Hélène Lefèvre"]  # accents and case ignored
    assert names("LEFÈVRE") == ["Hélène Lefèvre"]
    assert names("camille.durand@") == ["Camille Durand"]
    assert names("canceropole") == ["Camille Durand"]
    assert names("durand camille") == ["Camille Durand"]  # every word, any order
    assert names("curie durand") == []
    assert names("olga") == []  # registered for another event
    assert names("a") == []  # too short
    assert set(names("example.org")) == {"Camille Durand", "Hélène Lefèvre", "Wanda Attente", "Cyril Annule"}


def test_search_reports_status_and_check_in_time(desk, people):
    scan(desk, code_for(people["camille"]))

    hits = {h["registration"]["name"]: h for h in desk.get(f"{DESK}/search?q=example").get_json()["results"]}

    assert hits["Camille Durand"]["checked_in_time"] and hits["Camille Durand"]["checked_in_at"]
    assert hits["Hélène Lefèvre"]["checked_in_at"] is None
    assert hits["Wanda Attente"]["registration"]["status"] == "waitlisted"
    assert hits["Cyril Annule"]["registration"]["status"] == "cancelled"


def test_live_counts_per_category_and_round_table(desk, people, seeded):
    tables = round_table_ids(seeded)
    before = desk.get(f"{DESK}/counts").get_json()
    scan(desk, code_for(people["camille"]))
    scan(desk, code_for(people["camille"]), session_id=tables[0])
    scan(desk, code_for(people["waitlisted"]))

    after = desk.get(f"{DESK}/counts").get_json()

    assert (before["checked_in"], before["expected"]) == (0, 2)
    assert (after["checked_in"], after["expected"]) == (1, 2)
    category = sorted(seeded.categories, key=lambda c: c.position)[0]
    by_category = {row["id"]: row for row in after["categories"]}
    assert (by_category[category.id]["checked_in"], by_category[category.id]["expected"]) == (1, 1)
    first_table = next(row for row in after["round_tables"] if row["id"] == tables[0])
    assert (first_table["checked_in"], first_table["expected"], first_table["attending"]) == (1, 1, 1)
    assert [row["id"] for row in after["round_tables"]] == tables


def test_admin_dashboard_shows_live_counts(organiser, people):
    page = organiser.get(f"/admin/events/{SLUG}/").get_data(as_text=True)
    assert f'data-counts-url="{DESK}/counts"' in page and "checkin/counts.js" in page


def test_reprint_returns_that_registrants_badge(desk, people):
    response = desk.get(f"{DESK}/badge/{people['camille']}.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Camille" in text and "Durand" in text.replace("DURAND", "Durand")
    assert desk.get(f"{DESK}/badge/{people['elsewhere']}.pdf").status_code == 404
    assert desk.get(f"{DESK}/badge/{people['waitlisted']}.pdf").status_code == 404


def test_attendance_export_csv_lists_check_in_times(app, organiser, desk, people):
    with app.app_context():
        db.session.get(Registration, people["hélène"]).organisation = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    scan(desk, code_for(people["camille"]))

    response = organiser.get(f"{DESK}/attendance.csv")

    assert response.mimetype == "text/csv" and "attendance" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    at, by = header.index("Arrivé·e à"), header.index("Pointé par")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+0[12]:00$", body[str(people["camille"])][at])
    assert body[str(people["camille"])][by] == "checkin@example.org"
    assert body[str(people["hélène"])][at] == ""
    assert body[str(people["hélène"])][header.index("Organisme")].startswith("'=")
    assert str(people["elsewhere"]) not in body


def test_attendance_export_xlsx_has_a_sheet_per_round_table(organiser, desk, people, seeded):
    table = round_table_ids(seeded)[1]
    scan(desk, code_for(people["camille"]), session_id=table)

    response = organiser.get(f"{DESK}/attendance.xlsx")

    workbook = load_workbook(io.BytesIO(response.data))
    assert len(workbook.sheetnames) == 1 + len(round_table_ids(seeded))
    filled = [sheet for sheet in workbook.worksheets[1:] if sheet.max_row > 1]
    assert len(filled) == 1
    rows = list(filled[0].values)
    assert rows[1][0] == people["camille"] and rows[1][4] in ("0", False, 0)  # no seat booked there
    assert rows[1][5] is not None
