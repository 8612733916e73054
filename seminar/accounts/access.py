"""Authorisation for staff blueprints: one before_request per blueprint, declared with `require_roles`."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from seminar.accounts.models import Role


def require_roles(blueprint: Blueprint, *roles: Role) -> Blueprint:
    """Every route of `blueprint` answers only to signed-in, active accounts with one of `roles`.

    Anonymous visitors are sent to the login page (GET/HEAD, with `next`) or refused with 401 (other
    methods); signed-in accounts with another role get 403. The roles are remembered per blueprint in
    `app.extensions["staff_roles"]`, which the authorisation sweep test reads.
    """
    allowed = frozenset(roles)

    @blueprint.record_once
    def _remember(state):
        state.app.extensions.setdefault("staff_roles", {})[blueprint.name] = allowed

    @blueprint.before_request
    def _check_role():
        if not current_user.is_authenticated:
            return turn_away_anonymous()
        if current_user.role not in allowed:
            abort(403)
        return None

    return blueprint


def turn_away_anonymous():
    """Anonymous visitors of a staff page: GET/HEAD go to the login page, which brings them back (`next`);
    other methods get 401. Also Flask-Login's answer for `login_required` views (see auth.py)."""
    if request.method in ("GET", "HEAD"):
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    abort(401)


def has_role(*roles: Role) -> bool:
    """For templates and views: whether the signed-in account holds one of `roles`."""
    return bool(current_user.is_authenticated and current_user.role in roles)


def staff_roles(app=None) -> dict[str, frozenset[Role]]:
    return (app or current_app).extensions.get("staff_roles", {})


STAFF = (Role.admin, Role.organiser)
DOOR = (Role.admin, Role.organiser, Role.checkin)
