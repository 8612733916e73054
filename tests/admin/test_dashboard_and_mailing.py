"""Dashboard counts and charts; e-mail to a filtered set through the outbox."""

import re

from sqlalchemy import select

from seminar.audit.models import AuditEntry
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from tests.admin.conftest import SLUG, register, round_tables


def test_dashboard_shows_counts_charts_and_activity(app, seeded, organiser):
    first = round_tables(app)[0]
    ids = register(app, seeded.id, 3, [first], last_name="<script>")
    organiser.post(f"/admin/events/{SLUG}/registrations/{ids[0]}/cancel")
    page = organiser.get(f"/admin/events/{SLUG}/").get_data(as_text=True)
    assert '<span class="stat-number">2</span> confirmée' in page
    assert '<span class="stat-number">1</span> annulée' in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert "Inscription annulée" in page
    assert "<script>" not in page
    # The charts' figures are there as text too (a collapsed table under each), for those who cannot see them.
    figures = page.split('<details class="chart-figures">')[1:]
    assert len(figures) == 2
    today = re.search(r'<th scope="row">[^<]+</th><td>(\d+)</td><td>(\d+)</td>', figures[0])
    assert today and today[1] == today[2] != "0"  # one day of registrations: that day's count is the total
    assert "<summary>Les chiffres</summary>" in figures[1]
    assert re.search(r'<th scope="row">[^<]+</th><td>[1-9]\d*</td>', figures[1])


def test_mailing_previews_count_then_queues_one_message_each(app, seeded, organiser):
    first, second, _ = round_tables(app)
    register(app, seeded.id, 2, [first], prefix="a", first_name="Ada")
    register(app, seeded.id, 3, [second], prefix="b")
    url = f"/admin/events/{SLUG}/mailing"
    data = {"session": first, "subject": "Salle changée", "body": "Bonjour {first_name},\nRendez-vous salle B."}
    preview = organiser.post(url, data=data).get_data(as_text=True)
    assert "2 destinataires" in preview and "Bonjour Ada," in preview and "Envoyer à 2 personnes" in preview
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []
    organiser.post(url, data={**data, "send": "1", "expected": "2"})
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert sorted(m.to_addr for m in messages) == ["a0@example.org", "a1@example.org"]
        assert messages[0].text_body.startswith("Bonjour Ada,")
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "mailing.send")).details[
            "recipients"] == 2


def test_mailing_refuses_when_the_count_changed(app, seeded, organiser):
    register(app, seeded.id, 2)
    url = f"/admin/events/{SLUG}/mailing"
    organiser.post(url, data={"subject": "S", "body": "B", "send": "1", "expected": "5"})
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_mailing_with_a_control_character_is_refused_on_its_field_not_with_a_500(app, seeded, organiser):
    register(app, seeded.id, 1)
    url = f"/admin/events/{SLUG}/mailing"
    response = organiser.post(url, data={"subject": "Salle\x07 changée", "body": "B", "send": "1", "expected": "1"})
    assert response.status_code == 200
    assert "U+0007" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []
