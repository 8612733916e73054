"""Per-registrant promotion beyond capacity from the registrant page: confirmation step, audit, flash, CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.audit.models import AuditEntry
from seminar.events.models import Event, Session
from seminar.events.seed import seed_anniversary_seminar
from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.mail.outbox import compose_pending
from seminar.registration.models import Registration, RegistrationStatus
from tests.accounts.factories import PASSWORD, make_user, signed_in_client
from tests.admin.conftest import SLUG, register, round_tables
from tests.conftest import make_app

CONFIRMED, WAITLISTED = RegistrationStatus.confirmed, RegistrationStatus.waitlisted


def _capacity(app, *, event=None, table=None, table_capacity=None):
    with app.app_context():
        if event is not None:
            db.session.scalar(select(Event).where(Event.slug == SLUG)).capacity = event
        if table is not None:
            db.session.get(Session, table).capacity = table_capacity
        db.session.commit()


def _full_event(app, event_id):
    """Capacity 1: one confirmed, then the oldest and a younger registrant waiting."""
    _capacity(app, event=1)
    return [register(app, event_id, 1, prefix=p)[0] for p in ("holder", "oldest", "chosen")]


def _audit(app, registration_id):
    with app.app_context():
        return [(e.action, e.details) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == registration_id,
                                     AuditEntry.target_type == "registration").order_by(AuditEntry.id))]


def _row(app, registration_id):
    with app.app_context():
        r = db.session.get(Registration, registration_id)
        return r.status, {seat.session_id: seat.status.name for seat in r.seats}, r.overbooked


def test_promote_registrant_page_offers_the_button_and_states_the_excess(app, seeded, organiser):
    table = round_tables(app)[0]
    _capacity(app, table=table, table_capacity=1)
    _holder, _oldest, chosen = _full_event(app, seeded.id)
    register(app, seeded.id, 1, [table], prefix="seatholder")
    [wishing] = register(app, seeded.id, 1, [table], prefix="seat")  # waits for the event: the table is a wish
    detail = organiser.get(f"/admin/events/{SLUG}/registrations/{chosen}").get_data(as_text=True)
    promote = f"/admin/events/{SLUG}/registrations/{chosen}/promote"
    assert f'href="{promote}"' in detail and "Sortir de la liste d'attente (au-delà de la capacité)" in detail
    detail = organiser.get(f"/admin/events/{SLUG}/registrations/{wishing}").get_data(as_text=True)
    assert "souhait (décidé quand l'inscription sera confirmée)" in detail and "promote?session=" not in detail
    page = organiser.get(promote).get_data(as_text=True)
    assert "La capacité sera dépassée : 1 confirmées pour 1 places." in page
    assert "surréservation" in page and 'method="post"' in page
    assert _row(app, chosen)[0] is WAITLISTED  # the GET changes nothing


def test_promote_registrant_confirms_that_person_beyond_capacity_and_audits(app, seeded, organiser):
    _holder, oldest, chosen = _full_event(app, seeded.id)
    response = organiser.post(f"/admin/events/{SLUG}/registrations/{chosen}/promote", follow_redirects=True)
    assert response.status_code == 200
    assert "First0 Last0 est confirmé·e au-delà de la capacité." in response.get_data(as_text=True)
    assert _row(app, chosen) == (CONFIRMED, {}, True)
    assert _row(app, oldest) == (WAITLISTED, {}, False)
    assert _audit(app, chosen) == [("registration.promote_one", {"session": None, "overbooked": True})]
    with app.app_context():
        compose_pending()
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.registration_id == chosen))
    assert mail.ics_method == "REQUEST" and "METHOD:REQUEST" in mail.ics


def test_promote_registrant_seat_confirms_that_seat_only(app, seeded, organiser):
    table = round_tables(app)[0]
    _capacity(app, table=table, table_capacity=1)
    _holder, oldest, chosen = (register(app, seeded.id, 1, [table], prefix=p)[0] for p in ("h", "o", "c"))
    organiser.post(f"/admin/events/{SLUG}/registrations/{chosen}/promote", data={"session": table})
    assert _row(app, chosen) == (CONFIRMED, {table: "confirmed"}, True)
    assert _row(app, oldest) == (CONFIRMED, {table: "waitlisted"}, False)
    assert _audit(app, chosen) == [("registration.promote_one", {"session": table, "overbooked": True})]


def test_promote_registrant_refuses_one_not_waitlisted(app, seeded, organiser):
    [rid] = register(app, seeded.id, 1)
    response = organiser.post(f"/admin/events/{SLUG}/registrations/{rid}/promote", follow_redirects=True)
    assert "Cette inscription n&#39;est pas sur liste d&#39;attente." in response.get_data(as_text=True)
    assert _audit(app, rid) == []
    assert organiser.post(f"/admin/events/{SLUG}/registrations/999999/promote").status_code == 404
    assert organiser.post(f"/admin/events/{SLUG}/registrations/{rid}/promote",
                          data={"session": 999999}).status_code == 404


def test_promote_registrant_is_forbidden_to_checkin_staff(app, seeded):
    _holder, _oldest, chosen = _full_event(app, seeded.id)
    door = signed_in_client(app, Role.checkin)
    assert door.get(f"/admin/events/{SLUG}/registrations/{chosen}/promote").status_code == 403
    assert door.post(f"/admin/events/{SLUG}/registrations/{chosen}/promote").status_code == 403
    assert _row(app, chosen)[0] is WAITLISTED
    assert app.test_client().post(f"/admin/events/{SLUG}/registrations/{chosen}/promote").status_code == 401
    assert _row(app, chosen)[0] is WAITLISTED


@pytest.fixture
def csrf_app(backend, tmp_path):
    app = make_app(backend, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed_anniversary_seminar()
        event_id = db.session.scalar(select(Event.id).where(Event.slug == SLUG))
    yield app, event_id
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page).group(1)


def test_promote_registrant_requires_the_csrf_token(csrf_app):
    app, event_id = csrf_app
    _holder, _oldest, chosen = _full_event(app, event_id)
    make_user(app, Role.organiser)
    client = app.test_client()
    client.post("/login", data={"email": "organiser@example.org", "password": PASSWORD,
                                "csrf_token": _token(client.get("/login").get_data(as_text=True))})
    url = f"/admin/events/{SLUG}/registrations/{chosen}/promote"
    page = client.get(url).get_data(as_text=True)
    assert client.post(url).status_code == 400
    assert _row(app, chosen)[0] is WAITLISTED
    assert client.post(url, data={"csrf_token": _token(page)}).status_code == 302
    assert _row(app, chosen)[0] is CONFIRMED
