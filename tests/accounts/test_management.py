"""Admins manage accounts: create, change role, deactivate, sign out everywhere."""

import pytest
from sqlalchemy import func, select

from seminar.accounts.models import Role, User
from seminar.audit.models import AuditEntry
from seminar.extensions import db
from tests.accounts.factories import login, make_user, signed_in_client


def test_admin_creates_an_account_and_it_is_audited(app):
    admin = signed_in_client(app, Role.admin)
    response = admin.post("/admin/accounts/", data={"email": "new@example.org", "role": "checkin",
                                                    "password": "Brand-new-pass-1"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.org"))
        assert user.role is Role.checkin
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.create"
                                                           , AuditEntry.target_id == user.id))
        assert entry.actor == "admin@example.org"


def test_admin_account_creation_refuses_a_weak_password(app):
    admin = signed_in_client(app, Role.admin)
    response = admin.post("/admin/accounts/", data={"email": "new@example.org", "role": "checkin",
                                                    "password": "new@example.org1A"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None


def test_deactivating_an_account_ends_its_session(app):
    admin = signed_in_client(app, Role.admin)
    orga_id = make_user(app, Role.organiser)
    orga = app.test_client()
    login(orga, "organiser@example.org")
    assert orga.get("/admin/").status_code == 200
    assert admin.post(f"/admin/accounts/{orga_id}/active", data={"active": "0"}).status_code == 302
    assert orga.get("/admin/").status_code == 302
    assert login(app.test_client(), "organiser@example.org").status_code == 401


def test_role_change_applies_to_the_next_sign_in(app):
    admin = signed_in_client(app, Role.admin)
    orga_id = make_user(app, Role.organiser)
    admin.post(f"/admin/accounts/{orga_id}/role", data={"role": "checkin"})
    client = app.test_client()
    login(client, "organiser@example.org")
    assert client.get("/admin/").status_code == 403


def test_admin_cannot_deactivate_themself(app):
    admin = signed_in_client(app, Role.admin)
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == "admin@example.org"))
    admin.post(f"/admin/accounts/{admin_id}/active", data={"active": "0"})
    assert admin.get("/admin/accounts/").status_code == 200


def test_admin_signs_an_account_out_everywhere_and_it_is_audited(app):
    admin = signed_in_client(app, Role.admin)
    orga_id = make_user(app, Role.organiser)
    desk, laptop = app.test_client(), app.test_client()
    login(desk, "organiser@example.org")
    login(laptop, "organiser@example.org")
    page = admin.get("/admin/accounts/").get_data(as_text=True)
    assert f'action="/admin/accounts/{orga_id}/logout"' in page
    assert admin.post(f"/admin/accounts/{orga_id}/logout").status_code == 302
    assert desk.get("/admin/").status_code == 302
    assert laptop.get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 200  # the admin's own session goes on
    assert login(app.test_client(), "organiser@example.org").status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.sign_out"))
        assert entry.target_id == orga_id and entry.actor == "admin@example.org"


def test_sign_out_everywhere_is_for_admins_only(app, role_clients):
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.email == "admin@example.org"))
    assert role_clients[Role.organiser].post(f"/admin/accounts/{admin_id}/logout").status_code == 403
    assert role_clients[Role.admin].get("/admin/").status_code == 200


@pytest.mark.parametrize("weak", ["Password1234", "aaaaaaaaaaa1", " " * 12 + "a"])
def test_admin_account_creation_refuses_a_guessable_password_and_says_why(app, weak):
    admin = signed_in_client(app, Role.admin)
    response = admin.post("/admin/accounts/?lang=en", data={"email": "new@example.org", "role": "checkin",
                                                            "password": weak})
    assert response.status_code == 200
    assert "Too easy to guess: " in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None


def test_admin_account_creation_refuses_a_hostile_email_address(app):
    admin = signed_in_client(app, Role.admin)
    response = admin.post("/admin/accounts/?lang=en", data={"email": "<svg onload=alert(1)>@x.org", "role": "checkin",
                                                            "password": "lantern orbit cactus mosaic"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="email-error">Enter a valid e-mail address.' in page and "<svg onload" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
