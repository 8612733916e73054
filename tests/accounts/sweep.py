"""The authorisation sweep: every /admin and /checkin route, for every method, must turn anonymous visitors
away (302 to the login page for GET/HEAD, 302/401/403 for the others) and answer 403 to lower roles."""

from __future__ import annotations

from werkzeug.routing.converters import AnyConverter, FloatConverter, IntegerConverter

from seminar.accounts.access import DOOR, STAFF, staff_roles
from seminar.accounts.models import Role

PREFIXES = {"/admin": set(STAFF), "/checkin": set(DOOR)}


def _url(rule) -> str:
    """A concrete path for the rule: 1 for numbers, the first choice of an `any(...)`, "x" otherwise
    (authorisation runs before the view, so the objects need not exist)."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter | FloatConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def staff_rules(app):
    """(rule, allowed roles) for every route under a staff prefix."""
    registered = staff_roles(app)
    found = []
    for rule in app.url_map.iter_rules():
        for prefix, default in PREFIXES.items():
            if rule.rule == prefix or rule.rule.startswith(prefix + "/"):
                blueprint = rule.endpoint.rpartition(".")[0]
                allowed = default & set(registered.get(blueprint, default))
                found.append((rule, allowed))
    return found


def unprotected_routes(app, clients: dict[Role, object]) -> list[str]:
    """Every (method, path, who, status) that breaks the rule; `clients` holds a signed-in client per role."""
    failures = []
    anonymous = app.test_client()
    for rule, allowed in staff_rules(app):
        path = _url(rule)
        for method in sorted(rule.methods):
            response = anonymous.open(path, method=method)
            location = response.headers.get("Location", "")
            if method in ("GET", "HEAD"):
                ok = response.status_code == 302 and location.startswith("/login")
            else:
                ok = response.status_code in (302, 401, 403) and (response.status_code != 302 or
                                                                   location.startswith("/login"))
            if not ok:
                failures.append(f"{method} {path} anonymous -> {response.status_code} {location}")
            for role, client in clients.items():
                if role in allowed:
                    continue
                status = client.open(path, method=method).status_code
                if status != 403:
                    failures.append(f"{method} {path} {role.value} -> {status}")
    return failures
