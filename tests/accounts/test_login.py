"""Signing in and out: generic errors, local `next` only, rate limit, CSRF, expiry, password change."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from seminar.accounts.models import Role, User
from seminar.extensions import db
from tests.accounts.factories import PASSWORD, login, make_user
from tests.conftest import make_app


def test_login_with_right_password_opens_the_back_office(app, client):
    make_user(app, Role.organiser, "orga@example.org")
    response = login(client, "ORGA@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_with_wrong_password_or_unknown_address_gives_one_generic_message(app, client):
    make_user(app, Role.organiser, "orga@example.org")
    wrong = login(client, "orga@example.org", "Wrong-password-99")
    unknown = login(client, "nobody@example.org")
    for response in (wrong, unknown):
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        assert "Adresse e-mail ou mot de passe incorrect" in page
        # The message is the form's error summary, focused on load, and both fields point to it (WCAG 3.3.1).
        assert 'id="login-error"' in page and "data-focus-on-load" in page
        for name in ("email", "password"):
            field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group()
            assert 'aria-invalid="true"' in field and 'aria-describedby="login-error"' in field
    first_visit = client.get("/login").get_data(as_text=True)
    assert "aria-invalid" not in first_visit and "login-error" not in first_visit
    assert client.get("/admin/").status_code == 302


def test_login_refuses_a_deactivated_account(app, client):
    user_id = make_user(app, Role.organiser, "orga@example.org")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert login(client, "orga@example.org").status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x",
                                    "javascript:alert(1)", "/\r\nSet-Cookie:x", "\\\\evil.example"])
def test_login_next_refuses_other_sites(app, client, target):
    make_user(app, Role.organiser)
    response = login(client, "organiser@example.org", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_login_next_accepts_a_local_path(app, client):
    make_user(app, Role.organiser)
    response = login(client, "organiser@example.org", next="/admin/events/x/registrations?status=confirmed")
    assert response.headers["Location"] == "/admin/events/x/registrations?status=confirmed"


def test_login_page_keeps_next_from_the_query_string(client):
    page = client.get("/login?next=/admin/audit/").get_data(as_text=True)
    assert 'name="next" type="hidden" value="/admin/audit/"' in page


def test_logout_needs_post(app, client):
    make_user(app, Role.organiser)
    login(client, "organiser@example.org")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_session_ends_after_its_lifetime(app, client):
    make_user(app, Role.organiser)
    login(client, "organiser@example.org")
    with client.session_transaction() as session:
        lifetime = app.permanent_session_lifetime
        session["auth_at"] = (datetime.now(UTC) - lifetime - timedelta(minutes=1)).timestamp()
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_session_cookie_is_permanent_with_the_configured_lifetime(app, client):
    make_user(app, Role.organiser)
    response = login(client, "organiser@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_password_change_ends_other_sessions(app):
    make_user(app, Role.organiser)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "organiser@example.org")
    login(elsewhere, "organiser@example.org")
    response = here.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "lantern orbit cactus mosaic",
        "confirm": "lantern orbit cactus mosaic"})
    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    fresh = app.test_client()
    assert login(fresh, "organiser@example.org", "lantern orbit cactus mosaic").status_code == 302


def test_password_change_refuses_a_weak_password_and_explains_the_rule(app, client):
    make_user(app, Role.organiser)
    login(client, "organiser@example.org")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "short", "confirm": "short"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "au moins 12 caractères" in page
    assert login(app.test_client(), "organiser@example.org").status_code == 302  # old password still valid


def test_password_is_stored_hashed_with_scrypt(app):
    user_id = make_user(app, Role.admin)
    with app.app_context():
        stored = db.session.get(User, user_id).password_hash
    assert stored.startswith("scrypt:") and PASSWORD not in stored


@pytest.fixture
def limited_app(backend, tmp_path):
    return make_app(backend, tmp_path, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")


def test_login_post_is_rate_limited(limited_app):
    client = limited_app.test_client()
    statuses = [login(client, "x@example.org", "Wrong-password-99").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert client.get("/login").status_code == 200  # only POST is limited


@pytest.fixture
def csrf_app(backend, tmp_path):
    return make_app(backend, tmp_path, WTF_CSRF_ENABLED=True)


def test_login_without_csrf_token_is_refused(csrf_app):
    make_user(csrf_app, Role.organiser)
    client = csrf_app.test_client()
    response = login(client, "organiser@example.org")
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_login_and_logout_with_csrf_token_work(csrf_app):
    make_user(csrf_app, Role.organiser)
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "organiser@example.org", "password": PASSWORD,
                                           "csrf_token": token.group(1)})
    assert response.status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert client.post("/logout").status_code == 400  # no token: refused, still signed in
    assert client.get("/admin/").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_logout_ends_a_session_cookie_copied_before(app, client):
    make_user(app, Role.organiser)
    login(client, "organiser@example.org")
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin/").status_code == 200
    assert client.post("/logout").status_code == 302
    response = thief.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert login(app.test_client(), "organiser@example.org").status_code == 302  # signing in again works


def test_anonymous_password_page_leads_to_the_login_page_and_back(app, client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/account/password"
    assert client.post("/account/password").status_code == 401
    make_user(app, Role.organiser)
    response = login(client, "organiser@example.org", next="/account/password")
    assert response.headers["Location"] == "/account/password"
    assert client.get("/account/password").status_code == 200


@pytest.mark.parametrize("weak", ["Password1234", "aaaaaaaaaaa1", " " * 12 + "a"])
def test_password_change_refuses_a_guessable_password_and_says_why(app, client, weak):
    make_user(app, Role.organiser)
    login(client, "organiser@example.org")
    response = client.post("/account/password?lang=en", data={
        "current_password": PASSWORD, "new_password": weak, "confirm": weak})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Too easy to guess: " in page and "Add another word or two." in page
    assert login(app.test_client(), "organiser@example.org").status_code == 302  # old password still valid
