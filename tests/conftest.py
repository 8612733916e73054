"""Fixtures per the Flask testing docs: app, client, runner; every database test runs on SQLite and,
when SEMINAR_TEST_DATABASE_URL is set, on PostgreSQL too."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from seminar import create_app
from seminar.extensions import db

PG_URL = os.environ.get("SEMINAR_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_pg_schema_ready = False


def _reset_postgresql(app) -> None:
    """Once per run: recreate the schema from the models. Between tests: empty every table."""
    global _pg_schema_ready
    with app.app_context():
        if not _pg_schema_ready:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            db.create_all()
            _pg_schema_ready = True
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def make_app(backend: str, tmp_path, **overrides):
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'test.sqlite'}"
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_DELIVER_AFTER_COMMIT": False,
        "MAIL_URL": None,
        "BASE_URL": "http://seminar.test",
        **overrides,
    }
    app = create_app(config)
    if backend == "postgresql":
        _reset_postgresql(app)
    else:
        with app.app_context():
            db.create_all()
    return app


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(backend, tmp_path, app_config):
    """The app, with no context pushed: each client request gets its own app context (and `g`),
    as in production. Use the `ctx` fixture, or `with app.app_context():`, to touch the database."""
    app = make_app(backend, tmp_path, **app_config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for the whole test, for tests that call services and models directly
    (do not combine with client requests that depend on per-request state such as login or locale)."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The anniversary seminar, loaded as `flask seed` does. Returned detached, with its venue,
    sessions, speakers, categories and lists loaded: read it freely, re-query it to change it."""
    from seminar.events.seed import seed_anniversary_seminar
    from seminar.events.services import get_event

    with app.app_context():
        seed_anniversary_seminar()
        event = get_event("20-ans-canceropoles")
        db.session.expunge_all()
    return event


@pytest.fixture
def live_server(app):
    """The app served by a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
