"""Journeys of the staff in Chromium: an organiser in the back office, a check-in volunteer on a phone."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from seminar.badges.codes import make_checkin_code
from seminar.events.models import Event, Room
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import compose_pending
from seminar.registration import services as registration_services
from seminar.registration.models import Registration
from tests.e2e.conftest import STAFF, STAFF_PASSWORD
from tests.e2e.helpers import SLUG, fill_registration, round_tables, run_axe, screenshot

LOCAL = "%Y-%m-%dT%H:%M"
SHIFT = timedelta(minutes=-15)


def sign_in(page, server, role: str) -> None:
    server.wait_until_idle()
    page.goto("/login")
    page.fill("[name=email]", STAFF[role])
    page.fill("[name=password]", STAFF_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _outbox(server, to: str) -> list[OutboxMessage]:
    with server.app.app_context():
        while compose_pending():  # as the outbox worker would, if it has not yet
            pass
        messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == to)
                                      .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return messages


def test_organiser_moves_a_round_table_imports_exports_and_prints_badges(page, server):
    table_id, table_title = round_tables(server)[2]
    # Someone holds a seat at the round table that is about to move.
    page.goto(f"/events/{SLUG}/register")
    fill_registration(page, first_name="Eloi", last_name="Deplace", email="eloi.deplace@example.org",
                      tables=[table_id])
    page.locator("form.form-grid button[type=submit]").click()
    page.wait_for_url("**/register/thanks")

    sign_in(page, server, "organiser")

    # Move the round table a quarter of an hour earlier (into the lunch break, held in another room).
    page.goto(f"/admin/events/{SLUG}/sessions")
    page.get_by_role("link", name=table_title).first.click()
    page.wait_for_url(f"**/admin/events/{SLUG}/sessions/{table_id}")
    starts = datetime.strptime(page.input_value("[name=starts_at]"), LOCAL)
    ends = datetime.strptime(page.input_value("[name=ends_at]"), LOCAL)
    page.fill("[name=starts_at]", (starts + SHIFT).strftime(LOCAL))
    page.fill("[name=ends_at]", (ends + SHIFT).strftime(LOCAL))
    page.locator("main form.form-grid button[type=submit]").first.click()
    # Someone was sent the old time: the organiser is asked first, and chooses to tell them.
    notify = page.get_by_role("button", name=re.compile(r"^Enregistrer et prévenir 1 personne"))
    notify.wait_for()
    expect(page.locator("#notify-choice")).to_be_focused()
    notify.click()
    page.wait_for_load_state()
    assert not page.locator(".error-summary, .errors-summary").count(), page.locator("main").inner_text()

    # The update invite waits in the outbox: same calendar, REQUEST, the new time.
    updates = [m for m in _outbox(server, "eloi.deplace@example.org") if m.ics and m.ics_method == "REQUEST"
               and m.subject.startswith("Modifié")]
    assert updates, [m.subject for m in _outbox(server, "eloi.deplace@example.org")]
    new_start = (starts + SHIFT).strftime("%Y%m%dT%H%M")
    assert new_start in updates[-1].ics and "SEQUENCE:" in updates[-1].ics

    # Import two registrants from a CSV file (preview, then confirm).
    page.goto(f"/admin/events/{SLUG}/registrations/import")
    csv = ("first_name,last_name,email,organisation,sessions\n"
           f"Fanny,Importee,fanny.importee@example.org,CNRS,{table_id}\n"
           "Gaston,Importe,gaston.importe@example.org,Inserm,\n")
    page.set_input_files("[name=file]", files=[{"name": "people.csv", "mimeType": "text/csv",
                                                "buffer": csv.encode()}])
    # Without e-mails: on SQLite, the import's closing audit write races its own mail delivery (reported).
    page.uncheck("[name=send_email]")
    page.locator("main form.form-grid button[type=submit]").click()
    page.locator("input[name=confirm]").wait_for(state="attached")
    assert "fanny.importee@example.org" in page.locator("main table").inner_text()
    page.uncheck("[name=send_email]")
    page.locator("main form.form-grid button[type=submit]").click()
    page.locator(".import-created, section.notice").first.wait_for()
    assert page.locator(".import-created li").count() == 2, page.locator("main").inner_text()

    # Export the registrants as XLSX: the imported people are in the workbook.
    page.goto(f"/admin/events/{SLUG}/registrations")
    page.locator("details.exports summary").click()
    with page.expect_download() as download_info:
        page.locator("details.exports a[href*='format=xlsx']").first.click()
    assert download_info.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(download_info.value.path().read_bytes()), read_only=True)
    cells = {str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c is not None}
    assert {"Importee", "gaston.importe@example.org", "Deplace"} <= cells

    # Badges, from the event's menu: a background job with a progress bar; when it ends the page shows the
    # download and the list of recent exports in their final state.
    page.get_by_role("navigation", name="Cet événement").get_by_role("link", name="Badges").click()
    page.wait_for_url(f"**/admin/events/{SLUG}/badges/")
    page.select_option("#badge-layout", "a4-4")
    page.get_by_role("button", name="Préparer les badges").click()
    page.wait_for_url("**/badges/?job=*")
    download = page.get_by_role("link", name="Télécharger les badges (PDF)")
    download.wait_for(state="visible", timeout=60_000)
    assert page.locator(".job-progress").count() == 0  # the job has ended: no bar left waiting
    latest = page.locator("table tbody tr").first
    assert "Télécharger" in latest.inner_text() and "En attente" not in latest.inner_text()
    with page.expect_download() as download_info:
        download.click()
    pdf = PdfReader(io.BytesIO(download_info.value.path().read_bytes()))
    assert len(pdf.pages) >= 1
    assert "Importee" in "".join(p.extract_text() or "" for p in pdf.pages)

    # Deleting a room, keyboard only: a page asks first, naming the room; nothing goes until its button.
    page.goto(f"/admin/events/{SLUG}/venue")
    rooms = _room_count(server)
    page.get_by_role("link", name=re.compile(r"^Supprimer la salle « ")).first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/rooms/*/delete")
    expect(page.locator("h1")).to_contain_text("Supprimer la salle « ")
    assert _room_count(server) == rooms
    page.get_by_role("button", name=re.compile(r"^Supprimer la salle « ")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/events/{SLUG}/venue")
    assert _room_count(server) == rooms - 1


def _room_count(server) -> int:
    with server.app.app_context():
        count = db.session.scalar(select(db.func.count()).select_from(Room))
        db.session.remove()
    return count


def _confirmed_registrant(server, first_name: str, last_name: str) -> str:
    """Registers someone through the service (as the desk would find them) and returns their badge code."""
    with server.app.app_context():
        event_id = db.session.scalar(select(Event.id).where(Event.slug == SLUG))
        outcome = registration_services.register(
            event_id, registration_services.RegistrationDetails(
                first_name=first_name, last_name=last_name, email=f"{first_name}.{last_name}@example.org".lower(),
                organisation="Cancéropôle Nord-Ouest"), [], notify=False)
        code = make_checkin_code(db.session.get(Registration, outcome.registration_id))
        db.session.remove()
    return code


def test_checkin_volunteer_scans_a_badge_and_searches_a_name_on_a_phone(phone_page, server):
    page = phone_page
    code = _confirmed_registrant(server, "Hector", "Scanne")
    _confirmed_registrant(server, "Ines", "Cherchee")
    sign_in(page, server, "checkin")
    page.goto(f"/checkin/{SLUG}")
    title = page.locator("#result-title")
    result_panel = page.locator("#result")

    # The scanner types the code and presses Enter into the focused field.
    scan = page.locator("#scan-code")
    scan.focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(result_panel).to_have_class(re.compile(r"\bresult-checked_in\b"))
    assert "Hector" in page.locator("#result-person").inner_text()
    assert scan.input_value() == ""  # ready for the next badge

    # The same badge again: already checked in, said so.
    scan.focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(result_panel).to_have_class(re.compile(r"\bresult-already_checked_in\b"))

    # A forged code is refused.
    scan.fill(code[:-1] + ("A" if code[-1] != "A" else "B"))
    page.keyboard.press("Enter")
    expect(result_panel).to_have_class(re.compile(r"\bresult-invalid\b"))

    # Someone without a badge: found by name, checked in from the result.
    page.fill("#search-q", "cherch")
    result = page.locator("#search-results li", has_text="Ines")
    result.wait_for()
    result.get_by_role("button").first.click()
    expect(result_panel).to_have_class(re.compile(r"\bresult-checked_in\b"))
    assert "Ines" in page.locator("#result-person").inner_text()
    assert title.inner_text()

    # Keyboard only: Tab from the search field to a result's "Check in" button, press Space (which used to type a
    # space into the code field instead): checked in, and focus is back in the code field for the next badge.
    _confirmed_registrant(server, "Jules", "Clavier")
    page.fill("#search-q", "clavier")
    button = page.locator("#search-results li", has_text="Jules").get_by_role("button").first
    button.wait_for()
    page.locator("#search-q").focus()
    for _ in range(15):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError("the result's button cannot be reached with Tab")
    page.keyboard.press("Space")
    expect(page.locator("#result-person")).to_contain_text("Jules")
    expect(result_panel).to_have_class(re.compile(r"\bresult-checked_in\b"))
    expect(scan).to_be_focused()
    assert scan.input_value() == ""
    # Said once, politely, in one live region: the outcome, the person's name (and a warning when there is one).
    announce = page.locator("#result-announce")
    expect(announce).to_contain_text("Jules Clavier")
    assert announce.get_attribute("role") == "status" and page.locator("[aria-live=assertive]").count() == 0

    # Live counts: a refresh that finds the same figures leaves the table alone (a screen reader keeps its place);
    # a new arrival updates it and the total is said in the panel's live region.
    rows = page.locator("[data-count-rows=categories] tr").first
    rows.evaluate("row => { row.dataset.kept = 'yes'; }")
    page.evaluate("window.seminarCounts.refresh()")
    page.wait_for_timeout(800)
    assert rows.get_attribute("data-kept") == "yes"
    checked_before = int(page.locator("[data-count=checked_in]").first.inner_text())
    scan.focus()
    page.keyboard.type(_confirmed_registrant(server, "Kim", "Zhang"))
    page.keyboard.press("Enter")
    expect(page.locator("[data-count-announce]").first).to_contain_text(f"{checked_before + 1} arrivées")
    assert page.locator("[data-count-rows=categories] tr[data-kept]").count() == 0

    run_axe(page, "check-in desk (phone)")
    screenshot(page, "checkin-desk")


def test_staff_form_with_an_error_moves_focus_to_its_summary(page, server):
    sign_in(page, server, "organiser")
    table_id, _title = round_tables(server)[0]
    page.goto(f"/admin/events/{SLUG}/sessions/{table_id}")
    page.fill("[name=title]", "")
    page.locator("main form.form-grid button[type=submit]").first.click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert summary.evaluate("box => box.contains(document.activeElement)")
    # One Tab later, the link to the field at fault.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#title"
