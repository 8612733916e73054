"""Fixtures per the Flask testing docs: app, client, runner; every database test runs on SQLite and,
when SEMINAR_TEST_DATABASE_URL is set, on PostgreSQL too.

Under pytest-xdist (`pytest -n 2`, as `make test` runs the suite) each worker process has its own PostgreSQL
database and Redis database number, derived from the ones the environment names; tests marked `serial` are
left to a run of their own (`pytest -m serial`), where no other test competes for the CPU."""

from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from seminar import create_app
from seminar.extensions import db

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"… in a pytest-xdist worker; unset otherwise


def _per_worker(worker: str) -> None:
    """Rewrites SEMINAR_TEST_DATABASE_URL (database `test` → `test_gw0`) and SEMINAR_TEST_REDIS_URL (database
    15 → 14 for gw0, 13 for gw1…) in this worker's environment, once, before any test module reads them: test
    modules and the processes tests start see the same names, and two workers never empty or count each
    other's rows."""
    if pg_url := os.environ.get("SEMINAR_TEST_DATABASE_URL"):
        url = make_url(pg_url)
        url = url.set(database=f"{url.database}_{worker}")
        os.environ["SEMINAR_TEST_DATABASE_URL"] = url.render_as_string(hide_password=False)
    redis_url = urlsplit(os.environ.get("SEMINAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    number = (int(redis_url.path.strip("/") or 0) - 1 - int(worker.removeprefix("gw"))) % 16
    os.environ["SEMINAR_TEST_REDIS_URL"] = urlunsplit(redis_url._replace(path=f"/{number}"))


def _create_database(pg_url: str) -> None:
    """CREATE DATABASE for this worker on the same server, unless it exists (the server trusts the test user)."""
    url = make_url(pg_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}) is None:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        engine.dispose()


if XDIST_WORKER:
    _per_worker(XDIST_WORKER)

PG_URL = os.environ.get("SEMINAR_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("SEMINAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_pg_schema_ready = False

# Tests that kill processes, race threads against a live server, drive a browser or time what they wait for:
# a second test process competing for the CPU could make them fail, so `make test` runs them on their own,
# after the parallel run. A test is serial when it uses one of these fixtures, lives in one of these modules or
# directories, or carries @pytest.mark.serial itself.
SERIAL_FIXTURES = {"live_server"}
SERIAL_PATHS = (
    "tests/e2e/",  # Chromium and a real `flask run` process, per worker otherwise
    "tests/badges/test_render_pool.py",
    "tests/mail/test_outbox_database_drop.py",
    "tests/mail/test_outbox_lease.py",
    "tests/mail/test_outbox_stop.py",
    "tests/production/test_redis_rate_limits.py",  # gunicorn processes
    "tests/registration/test_concurrency.py",  # threads racing for the event's lock
    "tests/test_packaging.py",  # builds the wheel, rewriting the compiled catalogues other tests read
)


def pytest_configure(config):
    if XDIST_WORKER and PG_URL:
        _create_database(PG_URL)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        if path.startswith(SERIAL_PATHS) or SERIAL_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.serial)


def _reset_postgresql(app) -> None:
    """Once per run: recreate the schema from the models. Between tests: empty every table and restart every
    sequence. TRUNCATE, not DELETE (which was faster here): a statement still running from the previous test (a
    background thread's) makes TRUNCATE wait for it, where row-by-row DELETEs deadlocked with it in CI."""
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
    # A test that turned on delivery after commit started the app's delivery thread: it would go on delivering,
    # every minute, the outbox of whichever test uses this database next.
    app.extensions["seminar.outbox"].stop(timeout=10)
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
