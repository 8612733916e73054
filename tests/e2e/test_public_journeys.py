"""Journeys of attendees in Chromium: a newcomer from the home page to cancelling, and a full round table."""

from __future__ import annotations

from sqlalchemy import select

from seminar.events.models import Session
from seminar.extensions import db
from tests.e2e.helpers import SLUG, fill_registration, round_tables


def test_newcomer_registers_changes_downloads_and_cancels(page, server):
    tables = round_tables(server)
    (first_id, first_title), (second_id, second_title), (third_id, third_title) = tables

    # Home (the featured seminar's page) → its programme.
    page.goto("/")
    page.wait_for_url(f"**/events/{SLUG}/")
    page.get_by_role("navigation", name="Événement").get_by_role("link", name="Programme").click()
    page.wait_for_url(f"**/events/{SLUG}/programme")
    for _id, title in tables:
        assert page.get_by_text(title).first.is_visible()

    # Register for the seminar and two round tables.
    page.locator(f"a[href='/events/{SLUG}/register']").first.click()
    page.wait_for_url(f"**/events/{SLUG}/register")
    fill_registration(page, first_name="Camille", last_name="Nouvelle", email="camille.nouvelle@example.org",
                      tables=[first_id, second_id])
    page.locator("form.form-grid button[type=submit]").click()
    page.wait_for_url(f"**/events/{SLUG}/register/thanks")
    assert page.locator("h1").inner_text() == "Merci, votre place est confirmée"
    assert page.locator("td.status-confirmed").count() == 3  # the seminar and both round tables

    # The confirmation e-mail holds the self-service link.
    confirmation = server.wait_for_mail("camille.nouvelle@example.org", subject="Votre inscription est confirmée")[0]
    manage_path = server.self_service_path(confirmation)
    page.goto(manage_path)
    status = page.locator("section[aria-labelledby=status-title] table")
    assert status.locator("td.status-confirmed").count() == 3  # the seminar and both round tables
    assert first_title in status.inner_text() and second_title in status.inner_text()

    # Swap the second round table for the third.
    page.uncheck(f"input[name=sessions][value='{second_id}']")
    page.check(f"input[name=sessions][value='{third_id}']")
    page.get_by_role("button", name="Enregistrer mes tables rondes").click()
    page.wait_for_url(f"**{manage_path}")
    assert page.is_checked(f"input[name=sessions][value='{third_id}']")
    assert not page.is_checked(f"input[name=sessions][value='{second_id}']")
    assert status.locator("tr", has_text=third_title).locator("td.status-confirmed").count() == 1
    assert status.locator("tr", has_text=second_title).locator("td.status-confirmed").count() == 0

    # The personal agenda (.ics) now lists the first and third round tables.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger (.ics)").click()
    agenda = download_info.value.path().read_text(encoding="utf-8")
    assert agenda.startswith("BEGIN:VCALENDAR")
    unfolded = agenda.replace("\r\n ", "")
    assert "Table ronde 1" in unfolded and "Table ronde 3" in unfolded and "Table ronde 2" not in unfolded

    # The badge, as a PDF.
    badge_link = page.locator("a[href$='/badge.pdf']")
    if badge_link.count():
        with page.expect_download() as download_info:
            badge_link.first.click()
        badge = download_info.value.path().read_bytes()
    else:  # no link on the page yet: the URL is the public contract
        badge = page.request.get(f"{manage_path}/badge.pdf").body()
    assert badge.startswith(b"%PDF")

    # Cancel, after a confirmation step: the page says so, the round tables are released, and an e-mail confirms it.
    page.get_by_role("link", name="Annuler mon inscription…").click()
    page.wait_for_url(f"**{manage_path}/cancel")
    page.get_by_role("button", name="Oui, annuler mon inscription").click()
    page.wait_for_url(f"**{manage_path}")
    assert status.locator("td.status-cancelled").count() >= 1
    assert status.locator("td.status-confirmed").count() == 0
    server.wait_for_mail("camille.nouvelle@example.org", subject="Votre inscription est annulée")


def _set_capacity(server, session_id: int, capacity: int) -> None:
    with server.app.app_context():
        db.session.get(Session, session_id).capacity = capacity
        db.session.commit()
        db.session.remove()


def _confirmed_seats(server, session_id: int) -> int:
    from seminar.registration.models import SeatStatus, SessionSeat

    with server.app.app_context():
        count = len(db.session.scalars(select(SessionSeat).where(
            SessionSeat.session_id == session_id, SessionSeat.status == SeatStatus.confirmed)).all())
        db.session.remove()
    return count


def test_full_round_table_waitlists_then_promotes_on_cancellation(page, server):
    table_id, table_title = round_tables(server)[1]
    # One seat left at this round table, whatever other journeys did before.
    _set_capacity(server, table_id, _confirmed_seats(server, table_id) + 1)
    try:
        page.goto(f"/events/{SLUG}/register")
        fill_registration(page, first_name="Alix", last_name="Premiere", email="alix.premiere@example.org",
                          tables=[table_id])
        page.locator("form.form-grid button[type=submit]").click()
        page.wait_for_url("**/register/thanks")

        page.goto(f"/events/{SLUG}/register")
        # The form now says the round table is full (its places text changed).
        places = page.locator(f"#sessions-{table_id}-places").inner_text()
        fill_registration(page, first_name="Basile", last_name="Suivant", email="basile.suivant@example.org",
                          tables=[table_id])
        page.locator("form.form-grid button[type=submit]").click()
        page.wait_for_url("**/register/thanks")

        basile_mail = server.wait_for_mail("basile.suivant@example.org", subject="Votre inscription est confirmée")[0]
        basile_path = server.self_service_path(basile_mail)
        page.goto(basile_path)
        row = page.locator("section[aria-labelledby=status-title] tr", has_text=table_title)
        assert row.locator("td.status-waitlisted").count() == 1, places

        # Alix cancels from her own link: Basile is promoted and told by e-mail.
        alix_path = server.self_service_path(server.wait_for_mail("alix.premiere@example.org")[0])
        page.goto(alix_path)
        page.get_by_role("link", name="Annuler mon inscription…").click()
        page.get_by_role("button", name="Oui, annuler mon inscription").click()
        page.wait_for_url(f"**{alix_path}")

        promoted = server.wait_for_mail("basile.suivant@example.org", subject="Une place vous est attribuée")[0]
        assert table_title in promoted.text
        page.goto(basile_path)
        assert row.locator("td.status-confirmed").count() == 1
    finally:
        _set_capacity(server, table_id, 120)
