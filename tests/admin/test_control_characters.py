"""Issue 15, point 3: control characters typed (or pasted) by staff. Line separators become one line, other
controls are refused naming the field; texts stored before this cleaning still export; a failed e-mail shows
on the dashboard with its reason."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from seminar.admin.mailing import Mailing, send_mailing
from seminar.admin.registrants import RegistrantFilters
from seminar.events import programme
from seminar.events.models import Event, Session, Speaker
from seminar.extensions import db
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.outbox import deliver_pending
from seminar.registration import services
from seminar.registration.models import Registration
from tests.admin.conftest import SLUG, register, round_tables
from tests.mail.conftest import free_port

NEW_EVENT = {"slug": "journee-test", "timezone": "Europe/Paris", "starts_at": "2030-03-01T09:00",
             "ends_at": "2030-03-01T17:00"}


@pytest.mark.parametrize("separator", ["\x0b", "\r", "\n", "\r\n", "\u2028"])
def test_event_title_with_a_line_separator_is_saved_on_one_line(app, organiser, separator):
    title = f"Journée{separator}test {separator} annuelle"
    response = organiser.post("/admin/events/new", data={**NEW_EVENT, "title": title,
                                                         "description": f"Matin{separator}Après-midi"})
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == "journee-test"))
        assert event.title == "Journée test annuelle"
        assert event.description == "Matin\nAprès-midi"  # a multi-line text keeps the line break, as LF


def test_control_character_in_a_speaker_name_is_refused_naming_the_field(app, seeded, organiser):
    response = organiser.post(f"/admin/events/{SLUG}/speakers/new", data={"name": "Dr\x07 Test", "bio": "x"},
                              content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "U+0007" in page and "Nom" in page.split("U+0007")[0].rsplit("\n", 1)[-1]
    with app.app_context():
        assert db.session.scalar(select(Speaker).where(Speaker.name.like("Dr%Test"))) is None
        with pytest.raises(programme.ProgrammeError) as refused:
            programme.save_speaker(seeded.id, programme.SpeakerDetails(name="Ada", bio="ok\x1b[31m"))
    assert set(refused.value.problems) == {"bio"} and "U+001B" in refused.value.problems["bio"]


def test_speaker_name_keeps_the_joiners_scripts_need(ctx, seeded):
    name = "\u0645\u200c\u0645 \U0001f469\u200d\U0001f52c"  # ZWNJ in Persian, ZWJ in an emoji sequence
    assert programme.save_speaker(seeded.id, programme.SpeakerDetails(name=name)).name == name


def test_mailing_subject_with_a_control_character_is_refused(ctx, seeded):
    event = db.session.get(Event, seeded.id)
    with pytest.raises(programme.ProgrammeError) as refused:
        send_mailing(event, RegistrantFilters(), Mailing("Salle\x00B", "Bonjour\r\nà demain"))
    assert set(refused.value.problems) == {"subject"} and "U+0000" in refused.value.problems["subject"]
    assert db.session.scalars(select(OutboxMessage)).all() == []


def _store_raw_names(app, registration_ids, session_id=None):
    """Names and a round-table title as data saved before typed text was cleaned could hold them."""
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.id.in_(registration_ids)).values(
            first_name="Anne\x0bMarie", last_name="Du\x01rand\x1f", organisation="Inserm\x0cLyon"))
        if session_id is not None:
            db.session.execute(update(Session).where(Session.id == session_id).values(title="Table\x0b1\x07"))
        db.session.commit()


def test_registrant_exports_with_control_characters_open(app, seeded, organiser):
    first = round_tables(app)[0]
    _store_raw_names(app, register(app, seeded.id, 2, [first]), session_id=first)
    for query in ("format=xlsx", "by_round_table=1"):
        response = organiser.get(f"/admin/events/{SLUG}/registrations/export?{query}")
        assert response.status_code == 200, query
        workbook = load_workbook(io.BytesIO(response.data))
        rows = [row for sheet in workbook.worksheets for row in sheet.iter_rows(min_row=2, values_only=True)
                if row and row[0] is not None]
        assert rows and all(row[1:3] == ("Durand", "Anne\nMarie") for row in rows), query
    assert "Table 1" in load_workbook(io.BytesIO(response.data)).sheetnames


def test_attendance_export_with_control_characters_opens(app, seeded, organiser):
    first = round_tables(app)[0]
    _store_raw_names(app, register(app, seeded.id, 1, [first]), session_id=first)
    response = organiser.get(f"/checkin/{SLUG}/attendance.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    values = [v for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for v in row]
    assert "Durand" in values and "Anne\nMarie" in values


def test_failed_email_shows_on_the_dashboard_with_its_reason(app, seeded, organiser):
    app.config.update(MAIL_URL=f"smtp://127.0.0.1:{free_port()}", MAIL_MAX_ATTEMPTS=1)  # nobody listens there
    with app.app_context():
        details = services.RegistrationDetails(first_name="Ana", last_name="Lopes", email="ana@example.org")
        services.register(seeded.id, details, [])
        assert deliver_pending()["failed"] == 1
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.status is OutboxStatus.failed
        subject, reason = message.subject, message.last_error
    page = organiser.get(f"/admin/events/{SLUG}/").get_data(as_text=True)
    section = page.split('id="undelivered-mail"', 1)[1].split("</section>", 1)[0]
    assert "ana@example.org" in section and subject in section
    assert reason.split(":", 1)[0] in section  # the error's kind, e.g. ConnectionRefusedError
    assert "/registrations/" not in section  # nothing of the body, which holds the self-service link


def test_dashboard_without_failed_email_has_no_such_section(app, seeded, organiser):
    page = organiser.get(f"/admin/events/{SLUG}/").get_data(as_text=True)
    assert 'id="undelivered-mail"' not in page
