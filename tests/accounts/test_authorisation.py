"""Authorisation sweep over app.url_map: every staff route is protected, for every method and role."""

from flask import Blueprint

from seminar import create_app
from seminar.accounts.access import require_roles
from seminar.accounts.models import Role
from tests.accounts.factories import signed_in_client
from tests.accounts.sweep import staff_rules, unprotected_routes
from tests.conftest import make_app


def test_staff_routes_refuse_anonymous_and_lower_roles(app, role_clients):
    assert len(staff_rules(app)) > 20  # the sweep sees the back office
    assert unprotected_routes(app, role_clients) == []


def test_sweep_flags_an_unprotected_admin_route(backend, tmp_path):
    app = make_app(backend, tmp_path)
    leak = Blueprint("leak", __name__, url_prefix="/admin/leak")
    leak.add_url_rule("/", "secrets", lambda: "secrets", methods=["GET", "POST"])
    app.register_blueprint(leak)
    clients = {role: signed_in_client(app, role) for role in Role}

    failures = unprotected_routes(app, clients)

    assert "GET /admin/leak/ anonymous -> 200 " in failures
    assert "POST /admin/leak/ checkin -> 200" in failures


def test_sweep_flags_a_checkin_route_open_to_too_many(backend, tmp_path):
    app = make_app(backend, tmp_path)
    # Protected, but opened to check-in staff under /admin: the sweep holds /admin to organisers and admins.
    wrong = require_roles(Blueprint("wrong", __name__, url_prefix="/admin/wrong"), Role.checkin, Role.organiser)
    wrong.add_url_rule("/", "page", lambda: "page")
    app.register_blueprint(wrong)
    clients = {role: signed_in_client(app, role) for role in Role}

    assert unprotected_routes(app, clients) == [f"{m} /admin/wrong/ checkin -> 200" for m in ("GET", "HEAD", "OPTIONS")]


def test_admin_page_redirects_anonymous_to_login_with_next(client):
    response = client.get("/admin/events/x/registrations?status=confirmed")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert response.headers["Location"] == "/login?next=/admin/events/x/registrations?status%3Dconfirmed"


def test_accounts_pages_are_for_admins_only(app, role_clients):
    assert role_clients[Role.organiser].get("/admin/accounts/").status_code == 403
    assert role_clients[Role.admin].get("/admin/accounts/").status_code == 200
    assert role_clients[Role.organiser].get("/admin/audit/").status_code == 403
    assert role_clients[Role.admin].get("/admin/audit/").status_code == 200


def test_create_app_registers_roles_per_blueprint(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "INSTANCE_PATH": str(tmp_path)})
    roles = app.extensions["staff_roles"]
    assert roles["admin"] == {Role.admin, Role.organiser}
    assert roles["accounts_admin"] == {Role.admin}
