"""Staff accounts for tests, and signing in through the real login form."""

from __future__ import annotations

from seminar.accounts import services
from seminar.accounts.models import Role
from seminar.extensions import db

PASSWORD = "Correct-Horse-42"


def make_user(app, role: Role | str, email: str | None = None, password: str = PASSWORD) -> int:
    role = Role(role)
    with app.app_context():
        user = services.create_user(email or f"{role.value}@example.org", password, role)
        user_id = user.id
        db.session.remove()
    return user_id


def login(client, email: str, password: str = PASSWORD, next: str = ""):
    return client.post("/login", data={"email": email, "password": password, "next": next})


def signed_in_client(app, role: Role | str):
    """A fresh test client signed in with a new account of `role`."""
    role = Role(role)
    make_user(app, role)
    client = app.test_client()
    response = login(client, f"{role.value}@example.org")
    assert response.status_code == 302, response.status_code
    return client
