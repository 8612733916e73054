import pytest
from flask import request, session

from seminar import create_app


def _app(tmp_path, **config):
    return create_app({"TESTING": True, "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path),
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", **config})


def _session_cookie_header(app) -> str:
    @app.get("/set-session-for-test")
    def set_session():
        session["seen"] = True
        return "ok"

    response = app.test_client().get("/set-session-for-test")
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


@pytest.mark.parametrize(
    ("config", "secure"),
    [
        ({}, False),
        ({"BASE_URL": "https://seminaire.example.org"}, True),
        ({"SECURE_COOKIES": True}, True),
        ({"BASE_URL": "https://seminaire.example.org", "SECURE_COOKIES": False}, False),
        ({"SESSION_COOKIE_SECURE": True}, True),
    ],
)
def test_session_cookie_secure_follows_the_rule(tmp_path, config, secure):
    header = _session_cookie_header(_app(tmp_path, **config))
    assert ("; Secure" in header) is secure
    assert "; HttpOnly" in header
    assert "; SameSite=Lax" in header


def test_secure_cookies_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMINAR_SECURE_COOKIES", "true")
    app = _app(tmp_path)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


@pytest.mark.parametrize("hosts", [["seminaire.example.org"], "seminaire.example.org, www.seminaire.example.org"])
def test_trusted_hosts_refuse_other_hosts(tmp_path, hosts):
    client = _app(tmp_path, TRUSTED_HOSTS=hosts).test_client()
    assert client.get("/healthz", base_url="http://seminaire.example.org").status_code == 200
    refused = client.get("/healthz", base_url="http://evil.example.com")
    assert refused.status_code == 400


def test_trusted_hosts_from_the_environment_as_comma_separated_names(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMINAR_TRUSTED_HOSTS", "a.example.org,b.example.org")
    app = _app(tmp_path)
    assert app.config["TRUSTED_HOSTS"] == ["a.example.org", "b.example.org"]
    assert app.test_client().get("/healthz", base_url="http://c.example.org").status_code == 400


def test_max_content_length_refuses_oversized_bodies(tmp_path):
    app = _app(tmp_path, MAX_CONTENT_LENGTH=1024, WTF_CSRF_ENABLED=False)

    @app.post("/upload-for-test")
    def upload():
        return str(len(request.get_data()))

    client = app.test_client()
    assert client.post("/upload-for-test", data=b"x" * 1000).status_code == 200
    assert client.post("/upload-for-test", data=b"x" * 2000).status_code == 413


def _echo_app(tmp_path, **config):
    app = _app(tmp_path, **config)

    @app.get("/whoami-for-test")
    def whoami():
        return {"remote_addr": request.remote_addr, "scheme": request.scheme, "host": request.host,
                "secure": request.is_secure}

    return app.test_client()


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "seminaire.example.org"}


def test_proxy_headers_ignored_without_proxy_fix(tmp_path):
    seen = _echo_app(tmp_path).get("/whoami-for-test", headers=FORWARDED).get_json()
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "http", "host": "localhost", "secure": False}


def test_proxy_fix_trusts_the_configured_proxy_headers(tmp_path):
    client = _echo_app(tmp_path, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1, PROXY_FIX_X_HOST=1)
    response = client.get("/whoami-for-test", headers=FORWARDED)
    assert response.get_json() == {"remote_addr": "203.0.113.7", "scheme": "https",
                                   "host": "seminaire.example.org", "secure": True}
    # HTTPS as the proxy saw it: HSTS is sent
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_proxy_fix_counts_only_the_configured_number_of_proxies(tmp_path):
    client = _echo_app(tmp_path, PROXY_FIX_X_FOR=1)
    seen = client.get("/whoami-for-test", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7",
                                                    "X-Forwarded-Proto": "https"}).get_json()
    # the client cannot spoof its address by prepending one, nor the scheme when X_PROTO is 0
    assert seen["remote_addr"] == "203.0.113.7"
    assert seen["scheme"] == "http"

