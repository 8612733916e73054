"""The self-service link: status, edits, round tables, cancel, data download, erasure; tokens."""

from __future__ import annotations

import html

from sqlalchemy import select, text

from seminar.extensions import db
from seminar.registration.models import Registration, SeatStatus
from seminar.registration.tokens import hash_token
from tests.registration.conftest import REGISTER_URL, form_data, link_in, outbox, round_table_ids


def _registered(client, app, seeded, **overrides) -> str:
    assert client.post(REGISTER_URL, data=form_data(seeded, **overrides)).status_code == 303
    return link_in(outbox(app)[-1])


def test_token_is_long_random_and_stored_only_hashed(client, app, seeded):
    link = _registered(client, app, seeded)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits in base64url
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert registration.token_hash == hash_token(token)
        dump = " ".join(str(v) for row in db.session.execute(text("SELECT * FROM registration")) for v in row)
        assert token not in dump


def test_unknown_and_tampered_tokens_get_404(client, app, seeded):
    link = _registered(client, app, seeded)
    token = link.rsplit("/", 1)[1]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, token[:-1], token + "x", "x" * 43, "../etc"):
        assert client.get(f"/registrations/{bad}").status_code == 404, bad
        assert client.post(f"/registrations/{bad}/cancel").status_code == 404, bad
    assert client.get("/registrations/%00").status_code == 400  # a NUL byte is refused before any view
    assert client.get(f"/registrations/{tampered}/data.json").status_code == 404


def test_page_shows_status_and_keeps_the_token_out_of_referers(client, app, seeded):
    link = _registered(client, app, seeded)
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "place confirmée" in response.text and seeded.sessions[2].title.split(":")[0] in response.text


def test_edit_details_and_change_round_tables(client, app, seeded):
    link = _registered(client, app, seeded)
    first, second, third = round_table_ids(seeded)
    details = form_data(seeded, organisation="Inserm", first_name="Camille-Anne")
    details.pop("sessions"), details.pop("consent_privacy")
    assert client.post(f"{link}/details", data=details).status_code == 303
    assert client.post(f"{link}/sessions", data={"sessions": [str(second), str(third)]}).status_code == 303
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert (registration.first_name, registration.organisation) == ("Camille-Anne", "Inserm")
        held = {seat.session_id: seat.status for seat in registration.seats}
    assert held == {first: SeatStatus.cancelled, second: SeatStatus.confirmed, third: SeatStatus.confirmed}
    bad = client.post(f"{link}/details", data={**details, "email": "broken"})
    assert bad.status_code == 200 and 'id="email-error"' in bad.text


def test_cancel_then_data_download_then_erase(client, app, seeded):
    link = _registered(client, app, seeded)
    assert client.post(f"{link}/cancel").status_code == 303
    assert "annulée" in client.get(link).text
    data = client.get(f"{link}/data.json")
    assert data.status_code == 200 and data.json["status"] == "cancelled"
    assert data.json["email"] == "camille.durand@example.org"
    assert client.post(f"{link}/erase").status_code == 303  # without the confirmation box: nothing happens
    assert client.get(link).status_code == 200
    assert client.post(f"{link}/erase", data={"confirm": "yes"}).status_code == 303
    assert client.get(link).status_code == 404
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert registration.anonymised_at and registration.email.endswith("@invalid")


def test_waitlisted_registrant_leaves_the_list_themselves(client, app, seeded):
    from tests.registration.conftest import set_capacity

    table = round_table_ids(seeded)[0]
    set_capacity(app, sessions={table: 1})
    _registered(client, app, seeded)
    link = _registered(client, app, seeded, email="second@example.org")
    assert "sur liste d'attente, position 1" in html.unescape(client.get(link).text)
    client.post(f"{link}/leave-waitlist", data={"session_id": str(table)})
    with app.app_context():
        seat = db.session.scalar(select(Registration).where(Registration.email == "second@example.org")).seats[0]
        assert seat.status is SeatStatus.cancelled
