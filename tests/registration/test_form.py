"""The public registration form: fields, validation, accessibility, escaping, no enumeration."""

from __future__ import annotations

import re

from sqlalchemy import select

from seminar.extensions import db
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus
from tests.registration.conftest import REGISTER_URL, form_data, link_in, outbox, round_table_ids

CONTRACT_FIELDS = ["first_name", "last_name", "email", "organisation", "job_title", "category", "sessions",
                   "dietary", "accessibility", "consent_privacy", "consent_listing"]


def _registrations(app) -> list[Registration]:
    with app.app_context():
        rows = list(db.session.scalars(select(Registration).order_by(Registration.id)))
        db.session.expunge_all()
    return rows


def test_form_has_contract_fields_and_offers_round_tables_with_places(client, seeded):
    page = client.get(REGISTER_URL).text
    for name in CONTRACT_FIELDS:
        assert f'name="{name}"' in page, name
    for session_id in round_table_ids(seeded):
        assert f'value="{session_id}"' in page
    assert "120 places restantes" in page
    assert "Association de patients ou fondation" in page
    assert f'href="/events/{seeded.slug}/privacy"' in page
    assert client.get(f"/events/{seeded.slug}/privacy").status_code == 200


def test_form_prefills_from_query_string(client, seeded):
    second = round_table_ids(seeded)[1]
    page = client.get(f"{REGISTER_URL}?first_name=Zo%C3%A9&email=zoe%40example.org&sessions={second}").text
    assert 'value="Zoé"' in page
    assert 'value="zoe@example.org"' in page
    assert re.search(rf'value="{second}"\s+aria-describedby="[^"]+"\s+checked', page)


def test_register_confirms_and_emails_a_working_link(client, app, seeded):
    response = client.post(REGISTER_URL, data=form_data(seeded))
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"])
    assert "Nous vous avons envoyé un e-mail" in thanks.text
    [registration] = _registrations(app)
    assert registration.status is RegistrationStatus.confirmed
    assert registration.consent_privacy_at is not None
    [message] = outbox(app)
    assert message.to_addr == "camille.durand@example.org"
    assert "confirmée" in message.subject
    page = client.get(link_in(message))
    assert page.status_code == 200
    assert "Camille Durand" in page.text


def test_invalid_input_comes_back_with_summary_and_described_errors(client, app, seeded):
    data = form_data(seeded, email="not-an-address", first_name="   ", consent_privacy="")
    response = client.post(REGISTER_URL, data=data)
    assert response.status_code == 200
    page = response.text
    assert 'id="error-summary"' in page and "data-focus-on-load" in page
    assert 'href="#email"' in page and 'href="#first_name"' in page and 'href="#consent_privacy"' in page
    assert re.search(r'id="email"[^>]*aria-describedby="[^"]*email-error', page) or \
        re.search(r'aria-describedby="[^"]*email-error[^"]*"[^>]*id="email"', page)
    assert 'id="email-error"' in page
    assert "Saisissez une adresse e-mail valide" in page
    assert 'value="not-an-address"' in page  # what was typed is given back
    assert _registrations(app) == []


def test_errors_are_in_english_when_the_page_is(client, seeded):
    page = client.post(f"{REGISTER_URL}?lang=en", data=form_data(seeded, email="nope")).text
    assert "Enter a valid e-mail address" in page


def test_any_unicode_name_is_accepted_and_stored_as_typed(client, app, seeded):
    names = [("Zoë", "Ñúñez-O'Brien"), ("李", "小龍"), ("Анна", "Каренина"), ("محمد", "علي")]
    for i, (first, last) in enumerate(names):
        response = client.post(REGISTER_URL, data=form_data(seeded, first_name=f"  {first} ", last_name=last,
                                                             email=f"p{i}@example.org"))
        assert response.status_code == 303, response.text
    stored = [(r.first_name, r.last_name) for r in _registrations(app)]
    assert stored == names


def test_control_characters_and_overlong_values_are_refused(client, app, seeded):
    for overrides in ({"first_name": "Jo\x07hn"}, {"organisation": "A\x1b[31m"}, {"last_name": "x" * 101},
                      {"dietary": "y" * 1001}, {"job_title": "a\u202eb"}):
        response = client.post(REGISTER_URL, data=form_data(seeded, **overrides))
        assert response.status_code == 200, overrides
        assert 'class="error"' in response.text
    # A NUL byte is refused before any view (seminar.inputs.refuse_hostile_input), with nothing saved.
    assert client.post(REGISTER_URL, data=form_data(seeded, first_name="Jo\x00hn")).status_code == 400
    assert _registrations(app) == []


def test_what_people_type_is_escaped_in_pages_and_mail(client, app, seeded):
    nasty = '<script>alert("x")</script>'
    client.post(REGISTER_URL, data=form_data(seeded, first_name=nasty, organisation="<b>bold</b> & co"))
    [message] = outbox(app)
    assert "<script>" not in message.html_body
    assert "&lt;script&gt;" in message.html_body
    assert nasty in message.text_body  # plain text keeps it as typed
    page = client.get(link_in(message)).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert _registrations(app)[0].first_name == nasty


def test_same_email_twice_answers_the_same_and_mails_the_link(client, app, seeded):
    first = client.post(REGISTER_URL, data=form_data(seeded))
    app.config["REGISTRATION_LINK_RESEND_AFTER"] = 0  # the second attempt comes later: its link is mailed again
    second = client.post(REGISTER_URL, data=form_data(seeded, email="  Camille.DURAND@example.org ",
                                                      first_name="Someone else"))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert client.get(first.headers["Location"]).text == client.get(second.headers["Location"]).text
    registrations = _registrations(app)
    assert len(registrations) == 1 and registrations[0].first_name == "Camille"
    confirmation, reminder = outbox(app)
    assert reminder.to_addr == "camille.durand@example.org"
    assert link_in(reminder) == link_in(confirmation)
    assert client.get(link_in(reminder)).status_code == 200


def test_unknown_round_table_or_category_is_a_clear_error(client, app, seeded):
    plenary = next(s.id for s in seeded.sessions if not s.takes_registrations)
    for overrides in ({"sessions": [str(plenary)]}, {"sessions": ["abc"]}, {"category": "999999"},
                      {"category": "x"}):
        response = client.post(REGISTER_URL, data=form_data(seeded, **overrides))
        assert response.status_code == 200, overrides
        assert 'class="error"' in response.text
    assert _registrations(app) == []


def test_closed_registration_is_refused(client, app, seeded):
    from datetime import timedelta

    from seminar.events.models import Event
    from seminar.extensions import utcnow

    with app.app_context():
        event = db.session.get(Event, seeded.id)
        event.registration_closes_at = utcnow() - timedelta(days=1)
        db.session.commit()
    response = client.post(REGISTER_URL, data=form_data(seeded))
    assert "Les inscriptions sont closes" in response.text
    assert _registrations(app) == []


def test_round_table_or_category_of_another_event_is_refused(client, app, seeded):
    from seminar.events.models import Category, Event, Session, SessionKind

    with app.app_context():
        other = Event(slug="autre", title="Autre", starts_at=seeded.starts_at, ends_at=seeded.ends_at)
        table = Session(event=other, kind=SessionKind.round_table, title="Ailleurs", starts_at=seeded.starts_at,
                        ends_at=seeded.ends_at)
        category = Category(event=other, code="ailleurs", label="Ailleurs")
        db.session.add_all([other, table, category])
        db.session.commit()
        foreign = {"sessions": [str(table.id)]}, {"category": str(category.id)}
    for overrides in foreign:
        response = client.post(REGISTER_URL, data=form_data(seeded, **overrides))
        assert response.status_code == 200, overrides
        assert 'class="error"' in response.text
    assert _registrations(app) == []


def test_registering_for_an_unknown_event_is_not_found(client, app, seeded):
    response = client.post(REGISTER_URL.replace(seeded.slug, "inconnu"), data=form_data(seeded))
    assert response.status_code == 404
    assert _registrations(app) == []


def test_a_new_registration_is_stored_as_the_form_gave_it(client, app, seeded):
    table = round_table_ids(seeded)[0]
    data = form_data(seeded, dietary="Sans gluten", accessibility="Fauteuil", consent_listing="y")
    assert client.post(f"{REGISTER_URL}?lang=en", data=data).status_code == 303
    with app.app_context():
        [registration] = db.session.scalars(select(Registration)).all()
        stored = {name: getattr(registration, name) for name in (
            "first_name", "last_name", "email", "email_key", "organisation", "job_title", "category_id", "dietary",
            "accessibility", "consent_listing", "overbooked", "ical_sequence", "locale")}
        assert stored == {
            "first_name": "Camille", "last_name": "Durand", "email": "camille.durand@example.org",
            "email_key": "camille.durand@example.org", "organisation": "Cancéropôle Est", "job_title": "Chercheuse",
            "category_id": seeded.categories[0].id, "dietary": "Sans gluten", "accessibility": "Fauteuil",
            "consent_listing": True, "overbooked": False, "ical_sequence": 0, "locale": "en"}
        assert registration.source.value == "web" and registration.status is RegistrationStatus.confirmed
        assert registration.created_at <= registration.updated_at and registration.consent_privacy_at is not None
        [seat] = registration.seats
        assert (seat.session_id, seat.status, seat.ical_sequence) == (table, SeatStatus.confirmed, 0)
        assert registration.token_salt and len(registration.token_hash) == 64
