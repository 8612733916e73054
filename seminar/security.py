"""Security headers on every response, and the cookie and host rules of production.

Rules (documented in README "Production"):
- The session and remember-me cookies are always HttpOnly and SameSite=Lax. They are `Secure` when
  `SECURE_COOKIES` is true, or, when `SECURE_COOKIES` is unset (None), when `BASE_URL` starts with
  https:// (a site whose public address is HTTPS never needs its cookies over plain HTTP).
  `SESSION_COOKIE_SECURE = True` set explicitly is never turned off.
- HSTS is sent only on requests that arrived over HTTPS (`request.is_secure`; behind a proxy, set
  `PROXY_FIX_X_PROTO = 1` so that the proxy's X-Forwarded-Proto counts).
- `TRUSTED_HOSTS` (Flask's own key): a list of host names, or one comma-separated string as from the
  environment; requests for any other Host get 400. So does a Host werkzeug cannot read (a label over 63
  characters), answered plainly since no URL can be built for it.
- Hostile input (NUL bytes, JSON nested too deeply) is refused with 400 before any view runs (see
  `seminar.inputs`).
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import BadHost, SecurityError

from seminar.inputs import refuse_hostile_input

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
# The check-in desk reads QR codes with the camera of the page's own origin; nothing else is needed.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
HSTS_MAX_AGE = 365 * 24 * 3600

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_security(app: Flask) -> None:
    """Apply the cookie and host rules to the app's configuration and add the headers to every response."""
    _configure_cookies(app)
    _configure_trusted_hosts(app)
    app.before_request(lambda: refuse_hostile_input(request))
    app.after_request(add_security_headers)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(BadHost, untrusted_host)


def cookies_are_secure(config) -> bool:
    explicit = config.get("SECURE_COOKIES")
    if explicit is not None:
        return bool(explicit)
    return str(config.get("BASE_URL") or "").lower().startswith("https://")


def _configure_cookies(app: Flask) -> None:
    secure = cookies_are_secure(app.config) or bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    if secure:
        app.config["PREFERRED_URL_SCHEME"] = "https"


def _configure_trusted_hosts(app: Flask) -> None:
    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        hosts = [h.strip() for h in hosts.split(",") if h.strip()]
    app.config["TRUSTED_HOSTS"] = list(hosts) if hosts else None


def untrusted_host(_error: SecurityError | BadHost):
    # An untrusted or unreadable Host leaves the request without a URL adapter: the site's error page, which builds
    # links, cannot render, so the answer is plain.
    return "Bad Request: untrusted host\n", 400, {"Content-Type": "text/plain; charset=utf-8"}


def add_security_headers(response: Response) -> Response:
    """Headers a view has set itself (e.g. a stricter or wider policy) are kept."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_MAX_AGE}")
    return response
