"""Badge roles: set by organisers (registrant's page, one click on a programme speaker's match, import column
`role`), printed as a ribbon above the name, with the job title under it."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.audit.models import AuditEntry
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.registration.models import BadgeRole, Registration
from tests.accounts.factories import signed_in_client
from tests.admin.conftest import register
from tests.badges.conftest import add_registrant, pdf_text

ADMIN = f"/admin/events/{SLUG}"


@pytest.fixture
def organiser(app):
    return signed_in_client(app, Role.organiser)


def _role(app, registration_id: int) -> BadgeRole:
    with app.app_context():
        return db.session.get(Registration, registration_id).badge_role


def test_badge_prints_the_role_as_a_ribbon_and_the_job_title_under_the_name(app, seeded, client):
    person = add_registrant(app, "Zoë", "L'Hôpital", "CHU de Lyon")
    with app.app_context():
        registration = db.session.get(Registration, person.id)
        registration.job_title, registration.badge_role = "Oncologue", BadgeRole.moderator
        db.session.commit()
    text = pdf_text(client.get(f"/registrations/{person.token}/badge.pdf").data)
    assert "Oncologue" in text and "CHU de Lyon" in text
    assert "MODÉRATEUR·RICE" in text.upper()
    assert text.index("Oncologue") > text.index("Hôpital")  # under the name

    with app.app_context():
        db.session.get(Registration, person.id).badge_role = BadgeRole.attendee
        db.session.commit()
    attendee = pdf_text(client.get(f"/registrations/{person.token}/badge.pdf").data).upper()
    assert "MODÉRATEUR" not in attendee and "PARTICIPANT" not in attendee  # attendees wear no ribbon


def test_organiser_sets_the_badge_role_on_the_registrants_page(app, seeded, organiser):
    [registration_id] = register(app, seeded.id, 1)
    url = f"{ADMIN}/registrations/{registration_id}/badge-role"
    page = html.unescape(organiser.post(url, data={"badge_role": "press"}, follow_redirects=True)
                         .get_data(as_text=True))
    assert "Rôle sur le badge enregistré : Presse." in page
    assert _role(app, registration_id) is BadgeRole.press
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.badge_role"))
        assert entry.details == {"badge_role": ["attendee", "press"]}
    refused = html.unescape(organiser.post(url, data={"badge_role": "king"}, follow_redirects=True)
                            .get_data(as_text=True))
    assert "Choisissez un rôle dans la liste." in refused and _role(app, registration_id) is BadgeRole.press
    assert organiser.post(f"{ADMIN}/registrations/999999/badge-role", data={"badge_role": "press"}).status_code == 404


def test_programme_speakers_among_the_registrants_are_offered_as_one_click_matches(app, seeded, organiser):
    # "Norbert Ifrah" speaks at the opening (seed); written without accents or capitals by the registrant.
    [speaker_id] = register(app, seeded.id, 1, prefix="ifrah", first_name="norbert", last_name="IFRAH")
    [other_id] = register(app, seeded.id, 1, prefix="other", first_name="Camille", last_name="Durand")
    page = html.unescape(organiser.get(f"{ADMIN}/registrations").get_data(as_text=True))
    assert "Intervenant·es du programme parmi les inscrit·es" in page
    assert "Norbert Ifrah" in page and "Badge : Intervenant·e" in page
    organiser.post(f"{ADMIN}/registrations/{speaker_id}/badge-role", data={"badge_role": "speaker", "back": "list"})
    assert _role(app, speaker_id) is BadgeRole.speaker and _role(app, other_id) is BadgeRole.attendee
    after = organiser.get(f"{ADMIN}/registrations").get_data(as_text=True)
    assert 'id="speaker-matches"' not in after  # nobody left to match


def test_import_takes_the_role_column_by_code_or_by_name(app, seeded, runner, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("first_name,last_name,email,role\n"
                    "Ana,Lopes,ana@example.org,modératrice\n"
                    "Bo,Chen,bo@example.org,press\n"
                    "Cy,Roy,cy@example.org,\n"
                    "Di,Ng,di@example.org,astronaut\n", encoding="utf-8")
    result = runner.invoke(args=["registrations", "import", SLUG, str(path), "--no-email"])
    assert "created: 3" in result.output and "rejected: 1" in result.output, result.output
    with app.app_context():
        roles = dict(db.session.execute(select(Registration.email, Registration.badge_role)).all())
    assert roles == {"ana@example.org": BadgeRole.moderator, "bo@example.org": BadgeRole.press,
                     "cy@example.org": BadgeRole.attendee}
