"""Pages and e-mails that say what happened: the thanks page, the first e-mail and the self-service page state the
place or the waiting-list position (event and round tables); cancelling asks first; one registration, one set
of e-mails however often the form is sent."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus
from tests.registration.conftest import REGISTER_URL, form_data, link_in, outbox, round_table_ids, set_capacity

THANKS = REGISTER_URL + "/thanks"


def _register(client, seeded, n: int, **overrides):
    response = client.post(REGISTER_URL, data=form_data(seeded, email=f"p{n}@example.org", **overrides))
    assert response.status_code == 303, response.text
    return response


def test_thanks_page_says_place_confirmed_in_french_and_english(app, seeded):
    french = app.test_client()
    _register(french, seeded, 1)
    page = html.unescape(french.get(THANKS).text)
    assert "Merci, votre place est confirmée" in page
    assert "place confirmée" in page
    english = app.test_client()
    english.get("/?lang=en")
    _register(english, seeded, 2)
    page = html.unescape(english.get(THANKS).text)
    assert "Thank you, your place is confirmed" in page and "place confirmed" in page


def test_thanks_page_and_first_email_give_the_waiting_list_position(app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, event=1, sessions={table: 1})
    for n in range(3):
        client = app.test_client()
        _register(client, seeded, n, sessions=str(table))
    page = html.unescape(client.get(THANKS).text)
    assert "vous êtes sur liste d'attente" in page
    assert "sur liste d'attente, position 2" in page  # the third registrant: second in the queue
    assert "en attente de la confirmation de votre place" in page  # their round table is a wish
    last = [m for m in outbox(app) if m.to_addr == "p2@example.org"]
    assert len(last) == 1
    assert "sur liste d'attente, position 2" in last[0].text_body
    assert "en attente de la confirmation de votre place" in last[0].text_body


def test_round_table_waiting_position_is_shown_on_the_self_service_page(app, seeded):
    table = round_table_ids(seeded)[0]
    set_capacity(app, sessions={table: 1})
    client = app.test_client()
    for n in range(3):
        _register(client, seeded, n, sessions=str(table))
    links = {m.to_addr: link_in(m) for m in outbox(app)}
    page = html.unescape(client.get(links["p2@example.org"]).text)
    assert "sur liste d'attente, position 2" in page
    first_waiting = html.unescape(client.get(links["p1@example.org"]).text)
    assert "sur liste d'attente, position 1" in first_waiting
    mail = next(m for m in outbox(app) if m.to_addr == "p2@example.org")
    assert "place confirmée" in mail.text_body and "sur liste d'attente, position 2" in mail.text_body


def test_an_address_registered_before_sees_no_outcome_on_the_thanks_page(app, seeded):
    _register(app.test_client(), seeded, 1)
    other = app.test_client()
    _register(other, seeded, 1)
    page = html.unescape(other.get(THANKS).text)
    assert "votre demande a bien été reçue" in page
    assert "place confirmée" not in page


def test_cancelling_asks_first_then_cancels_on_the_post(client, app, seeded):
    _register(client, seeded, 1)
    link = link_in(outbox(app)[-1])
    assert f'href="{link}/cancel"' in html.unescape(client.get(link).text)
    page = client.get(f"{link}/cancel")
    assert page.status_code == 200
    assert "Annuler votre inscription ?" in page.text and "Oui, annuler mon inscription" in page.text
    with app.app_context():
        assert db.session.scalar(select(Registration.status)) is RegistrationStatus.confirmed
    assert client.post(f"{link}/cancel").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Registration.status)) is RegistrationStatus.cancelled
    assert client.get(f"{link}/cancel").status_code == 303  # nothing left to cancel: back to the page


def test_after_cancelling_the_page_offers_to_register_again(client, app, seeded):
    table = round_table_ids(seeded)[0]
    _register(client, seeded, 1, sessions=str(table))
    link = link_in(outbox(app)[-1])
    client.post(f"{link}/cancel")
    page = html.unescape(client.get(link).text)
    assert "Des places restent disponibles" in page and f'action="{link}/register-again"' in page
    assert client.post(f"{link}/register-again").status_code == 303
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert registration.status is RegistrationStatus.confirmed
        assert [seat.status for seat in registration.seats] == [SeatStatus.confirmed]


def test_registering_again_after_cancelling_joins_the_back_of_the_waiting_list(client, app, seeded):
    set_capacity(app, event=1)
    _register(client, seeded, 1)
    _register(client, seeded, 2)  # waiting, position 1
    links = {m.to_addr: link_in(m) for m in outbox(app)}
    client.post(f"{links['p1@example.org']}/cancel")  # p2 is promoted
    client.post(f"{links['p1@example.org']}/register-again")
    _register(client, seeded, 3)
    with app.app_context():
        statuses = dict(db.session.execute(select(Registration.email, Registration.status)).all())
    assert statuses == {"p1@example.org": RegistrationStatus.waitlisted, "p2@example.org": RegistrationStatus.confirmed,
                        "p3@example.org": RegistrationStatus.waitlisted}
    assert "position 1" in html.unescape(client.get(links["p1@example.org"]).text)


def test_the_same_form_sent_again_sends_no_second_email(client, app, seeded):
    for _ in range(3):
        _register(client, seeded, 1)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_full_event_offers_the_waiting_list_before_the_form_is_filled(app, seeded):
    set_capacity(app, event=1)
    client = app.test_client()
    assert "Rejoindre la liste d'attente" not in html.unescape(client.get(REGISTER_URL).text)
    _register(client, seeded, 1)
    form = html.unescape(client.get(REGISTER_URL).text)
    assert 'id="event-full"' in form and "Rejoindre la liste d'attente" in form
    assert "Rejoindre la liste d'attente" in html.unescape(client.get(f"/events/{seeded.slug}/").text)
    client.get("/?lang=en")
    assert "Join the waiting list" in html.unescape(client.get(REGISTER_URL).text)
