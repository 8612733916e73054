import re

import pytest

from seminar import create_app
from seminar.events.seed import SLUG
from seminar.security import CONTENT_SECURITY_POLICY

PUBLIC_PAGES = {
    "home": "/",
    "event": f"/events/{SLUG}/",
    "programme": f"/events/{SLUG}/programme",
    "speakers": f"/events/{SLUG}/speakers",
    "venue": f"/events/{SLUG}/venue",
    "api": f"/api/events/{SLUG}",
    "not found": "/events/no-such-event/",
    "api not found": "/api/events/no-such-event",
    "static": "/static/css/site.css",
    "health": "/healthz",
}
# The home page sends visitors to the featured seminar while it is ahead (the seed puts it on the next 28 November).
EXPECTED_STATUS = {"home": 302, "not found": 404, "api not found": 404}


def _assert_security_headers(response):
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in csp
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"strict-origin-when-cross-origin", "same-origin"}
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in headers["Permissions-Policy"]


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_security_headers_on_every_public_page_type(client, seeded, page):
    response = client.get(PUBLIC_PAGES[page])
    assert response.status_code == EXPECTED_STATUS.get(page, 200), page
    _assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers


def test_security_headers_on_server_error(app, client, seeded):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    _assert_security_headers(response)


@pytest.mark.parametrize("page", ["home", "programme", "api", "not found", "static"])
def test_hsts_sent_only_over_https(client, seeded, page):
    response = client.get(PUBLIC_PAGES[page], base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    _assert_security_headers(response)
    assert "Strict-Transport-Security" not in client.get(PUBLIC_PAGES[page]).headers


def test_rendered_pages_have_no_inline_script_style_or_handler(client, seeded):
    for page in ("home", "event", "programme", "speakers", "venue", "not found"):
        text = client.get(PUBLIC_PAGES[page]).text.lower()
        assert not re.search(r"<[^>]+\sstyle=", text), f"style attribute on {page}"
        assert not re.search(r"<[^>]+\son[a-z]+=", text), f"inline event handler on {page}"
        assert not re.search(r"<style", text), f"<style> element on {page}"
        for opening in re.findall(r"<script[^>]*>", text):
            assert " src=" in opening, f"inline <script> on {page}"


def test_healthz_answers_ok_after_a_database_round_trip(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_reports_an_unreachable_database(tmp_path):
    # PostgreSQL on a port where nothing listens: the check fails fast and says so.
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.text == "database unavailable\n"
