"""Back-office fixtures: a signed-in organiser, and helpers to register people through the real service."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from seminar.accounts.models import Role
from seminar.events.models import Session, SessionKind
from seminar.events.seed import SLUG
from seminar.extensions import db
from seminar.registration import services as registration
from seminar.registration.models import RegistrationSource
from tests.accounts.factories import signed_in_client


@pytest.fixture
def organiser(app):
    return signed_in_client(app, Role.organiser)


def round_tables(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Session.id).where(Session.kind == SessionKind.round_table)
                                       .order_by(Session.starts_at)))


def register(app, event_id: int, n: int, session_ids=(), *, prefix="p", **fields) -> list[int]:
    ids = []
    with app.app_context():
        for i in range(n):
            details = registration.RegistrationDetails(
                first_name=fields.get("first_name", f"First{i}"), last_name=fields.get("last_name", f"Last{i}"),
                email=f"{prefix}{i}@example.org", organisation=fields.get("organisation", "Inserm"),
                category_id=fields.get("category_id"))
            outcome = registration.register(event_id, details, list(session_ids), source=RegistrationSource.organiser,
                                            notify=False)
            ids.append(outcome.registration_id)
        db.session.remove()
    return ids


__all__ = ["SLUG", "organiser", "register", "round_tables"]
