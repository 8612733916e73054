"""Check-in fixtures: registrants in every state, signed badge codes, desk clients."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.badges.codes import make_code_for_id
from seminar.events.models import Event, SessionKind
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.registration import services as registration
from seminar.registration.models import Registration, RegistrationSource, RegistrationStatus
from tests.accounts.factories import PASSWORD, make_user, signed_in_client

DESK = f"/checkin/{SLUG}"
SECRET_KEY = "test-secret-key"  # tests/conftest.py's


def code_for(registration_id: int) -> str:
    return make_code_for_id(registration_id, secret_key=SECRET_KEY)


def round_table_ids(event) -> list[int]:
    return [s.id for s in sorted(event.sessions, key=lambda s: s.id) if s.kind is SessionKind.round_table]


def _register(event_id: int, first: str, last: str, email: str, *, organisation: str = "",
              category_id: int | None = None, sessions: list[int] | None = None) -> int:
    details = registration.RegistrationDetails(first_name=first, last_name=last, email=email,
                                               organisation=organisation, category_id=category_id)
    outcome = registration.register(event_id, details, sessions or [], source=RegistrationSource.organiser,
                                    notify=False)
    return outcome.registration_id


@pytest.fixture
def people(app, seeded) -> dict[str, int]:
    """Registration ids: `camille` (confirmed, seat at the first round table), `hélène` (confirmed, no seat),
    `waitlisted`, `cancelled`, and `elsewhere` (confirmed for another event)."""
    tables = round_table_ids(seeded)
    categories = sorted(seeded.categories, key=lambda c: c.position)
    with app.app_context():
        ids = {
            "camille": _register(seeded.id, "Camille", "Durand", "camille.durand@example.org",
                                 organisation="Cancéropôle Est", category_id=categories[0].id, sessions=[tables[0]]),
            "hélène": _register(seeded.id, "Hélène", "Lefèvre", "helene@example.org",
                                organisation="Institut Curie", category_id=categories[1].id),
            "waitlisted": _register(seeded.id, "Wanda", "Attente", "wanda@example.org"),
            "cancelled": _register(seeded.id, "Cyril", "Annule", "cyril@example.org"),
        }
        registration.cancel(ids["cancelled"])
        # Set after the cancellation, which would promote a waiting registrant.
        db.session.get(Registration, ids["waitlisted"]).status = RegistrationStatus.waitlisted
        db.session.commit()
        event = db.session.scalar(select(Event).where(Event.slug == SLUG))
        other = Event(slug="autre", title="Another seminar", starts_at=event.starts_at + timedelta(days=30),
                      ends_at=event.ends_at + timedelta(days=30))
        db.session.add(other)
        db.session.commit()
        ids["elsewhere"] = _register(other.id, "Olga", "Ailleurs", "olga@example.org")
        db.session.remove()
    return ids


@pytest.fixture
def desk(app):
    """A client signed in with a check-in account (checkin@example.org)."""
    return signed_in_client(app, Role.checkin)


@pytest.fixture
def organiser(app):
    return signed_in_client(app, Role.organiser)


def scan(client, code, **extra):
    return client.post(f"{DESK}/scan", json={"code": code, **extra})


def registration_row(app, registration_id: int) -> Registration:
    with app.app_context():
        row = db.session.get(Registration, registration_id)
        db.session.expunge(row)
        return row


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login_with_csrf(app, role: Role):
    """Sign in through the real form when CSRF protection is on (the token read from the login page)."""
    make_user(app, role)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_FIELD.search(page)[1]
    response = client.post("/login", data={"email": f"{role.value}@example.org", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client
