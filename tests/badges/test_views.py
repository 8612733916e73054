"""Where badges are produced: the registrant's own badge, the back-office export job, the CLI."""

from __future__ import annotations

import html
from io import BytesIO

import pytest
from pypdf import PdfReader

from seminar.accounts.models import Role
from seminar.events.seed import SLUG
from seminar.extensions import db, utcnow
from seminar.jobs.services import work
from seminar.registration.models import RegistrationStatus
from tests.accounts.factories import signed_in_client
from tests.badges.conftest import add_registrant, pdf_text

ADMIN_BASE = f"/admin/events/{SLUG}/badges"


def test_own_badge_is_the_registrants_own(app, people, client):
    mine, other = people[0], people[1]
    response = client.get(f"/registrations/{mine.token}/badge.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    assert mine.last_name in text and other.last_name not in text
    page = PdfReader(BytesIO(response.data)).pages[0]
    assert round(float(page.mediabox.width) * 25.4 / 72) == 105  # A6


def test_own_badge_unknown_token_is_404(app, people, client):
    assert client.get("/registrations/" + "A" * 43 + "/badge.pdf").status_code == 404
    assert client.get("/registrations/nope/badge.pdf").status_code == 404
    assert client.get(f"/registrations/{people[0].token[:-1]}x/badge.pdf").status_code == 404


def test_own_badge_waitlisted_gets_a_clear_404(app, seeded, client):
    person = add_registrant(app, "Attente", "Liste", status=RegistrationStatus.waitlisted)
    response = client.get(f"/registrations/{person.token}/badge.pdf")
    assert response.status_code == 404 and b"%PDF" not in response.data
    assert "Le badge est disponible une fois votre inscription confirmée." in response.text


def test_error_pages_show_only_our_own_explanations(app, seeded, client):
    """werkzeug's English descriptions, and other libraries' (here a CSRF refusal), stay off the page."""
    app.config["WTF_CSRF_ENABLED"] = True
    # (The registration form shows itself again after a CSRF refusal: tests/registration/test_expired_form.py.)
    response = client.post("/login", data={"email": "ana@example.org", "password": "x"})
    assert response.status_code == 400
    assert "CSRF" not in response.text and "Votre demande n'a pas pu être traitée" in html.unescape(response.text)
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "The requested URL was not found" not in missing.text


def test_admin_badges_require_an_organiser(app, seeded, client):
    response = client.get(f"{ADMIN_BASE}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"{ADMIN_BASE}/", data={"layout": "a6"}).status_code == 401
    door = signed_in_client(app, Role.checkin)
    assert door.get(f"{ADMIN_BASE}/").status_code == 403
    assert door.get(f"{ADMIN_BASE}/jobs/1").status_code == 403


def test_admin_badges_page_is_in_the_back_office_menu_and_the_desk_shows_volunteers_no_organiser_menu(app, seeded):
    organiser = signed_in_client(app, Role.organiser)
    dashboard = organiser.get(f"/admin/events/{seeded.slug}/").get_data(as_text=True)
    assert f'href="{ADMIN_BASE}/"' in dashboard.split('class="event-staff-nav"')[1]  # in the event's menu
    badges = organiser.get(f"{ADMIN_BASE}/").get_data(as_text=True)
    assert 'class="staff-nav"' in badges and f'href="{ADMIN_BASE}/" aria-current="page"' in badges
    door = signed_in_client(app, Role.checkin)
    desk = door.get(f"/checkin/{seeded.slug}").get_data(as_text=True)
    assert 'class="staff-nav"' in desk and "event-staff-nav" not in desk  # pages they would be turned away from


def test_admin_badge_export_runs_as_a_job_with_progress_and_download(app, people):
    client = signed_in_client(app, Role.organiser)
    page = client.get(f"{ADMIN_BASE}/")
    assert page.status_code == 200 and b"a4-8" in page.data
    response = client.post(f"{ADMIN_BASE}/", data={"layout": "a4-8", "status": "confirmed"})
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("job=", 1)[1])
    progress_page = client.get(response.headers["Location"])
    assert b"job-progress.js" in progress_page.data and b"<progress" in progress_page.data
    status = client.get(f"{ADMIN_BASE}/jobs/{job_id}").get_json()
    assert status["status"] == "queued" and status["download_url"] is None
    assert client.get(f"{ADMIN_BASE}/jobs/{job_id}/download").status_code == 404

    work(app, once=True)

    status = client.get(f"{ADMIN_BASE}/jobs/{job_id}").get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["total"] == len(people)
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    text = pdf_text(download.data)
    assert all(person.last_name in text for person in people)


def test_admin_badge_export_refuses_bad_settings_clearly(app, people):
    client = signed_in_client(app, Role.organiser)
    for data in ({"layout": "a3-99"}, {"status": "bogus"}, {"session": "999999"}):
        response = client.post(f"{ADMIN_BASE}/", data=data, follow_redirects=True)
        assert response.status_code == 200
        assert "réglages de badges ne sont pas valables" in response.get_data(as_text=True)


def test_admin_badge_job_of_another_event_is_404(app, people):
    from seminar.badges.services import start_badge_export
    from seminar.events.models import Event

    with app.app_context():
        now = utcnow()
        other = Event(slug="autre", title="Autre", starts_at=now, ends_at=now)
        db.session.add(other)
        db.session.commit()
        job_id = start_badge_export(other.id)
    client = signed_in_client(app, Role.admin)
    assert client.get(f"{ADMIN_BASE}/jobs/{job_id}").status_code == 404
    assert client.get(f"{ADMIN_BASE}/jobs/{job_id}/download").status_code == 404


def test_start_badge_export_filters_selection_and_session(app, people, client):
    from seminar.badges.services import start_badge_export
    from seminar.jobs.services import get_job_result

    with app.app_context():
        from seminar.events.services import get_event

        event = get_event(SLUG)
        event_id = event.id
        second_table = [s.id for s in event.sessions if s.takes_registrations][1]
        selected = start_badge_export(event_id, registration_ids=[people[1].id, people[2].id], layout="a6")
        by_session = start_badge_export(event_id, session_id=second_table)
    seated = add_registrant(app, "Siège", "Deuxième", round_tables=2)
    work(app, once=True)
    with app.app_context():
        text = pdf_text(get_job_result(selected).data)
        assert people[1].last_name in text and people[2].last_name in text and people[0].last_name not in text
        assert len(PdfReader(BytesIO(get_job_result(selected).data)).pages) == 2
        text = pdf_text(get_job_result(by_session).data)
        assert seated.last_name in text and people[0].last_name not in text
        with pytest.raises(ValueError):
            start_badge_export(event_id, layout="a5")


def test_cli_badges_writes_the_pdf_with_a_progress_bar(app, people, runner, tmp_path):
    output = tmp_path / "badges.pdf"
    result = runner.invoke(args=["badges", SLUG, "-o", str(output), "--layout", "label-90x54"])
    assert result.exit_code == 0, result.output
    assert "Badges" in result.output and f"{len(people)} badge(s)" in result.output
    reader = PdfReader(BytesIO(output.read_bytes()))
    assert len(reader.pages) == 1
    assert all(person.last_name in pdf_text(output.read_bytes()) for person in people)


def test_cli_badges_refuses_unknown_event_and_session(app, people, runner, tmp_path):
    result = runner.invoke(args=["badges", "nope", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0 and "no event" in result.output
    result = runner.invoke(args=["badges", SLUG, "-o", str(tmp_path / "x.pdf"), "--session", "999999"])
    assert result.exit_code != 0 and "not part of this event" in result.output
    result = runner.invoke(args=["badges", SLUG, "-o", str(tmp_path / "x.pdf"), "--layout", "a5"])
    assert result.exit_code != 0
