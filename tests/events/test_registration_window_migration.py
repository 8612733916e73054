"""Migration 0003_registration_window on each backend: every event gets a closing time, never after its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import MetaData, Table, inspect, select, text

from seminar import create_app
from seminar.extensions import db
from tests.conftest import PG_URL

START = datetime(2030, 3, 1, 8, tzinfo=UTC)
END = START + timedelta(hours=8)
EARLY = START - timedelta(days=2)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    elif not PG_URL:
        pytest.skip("SEMINAR_TEST_DATABASE_URL is not set")
    else:
        url = PG_URL
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(tmp_path)})
    if request.param == "postgresql":
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    yield app
    with app.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        import tests.conftest as conftest

        conftest._pg_schema_ready = False  # the next test recreates the schema from the models


def _event(slug: str, closes_at: datetime | None) -> dict:
    return {"slug": slug, "title": slug, "subtitle": "", "description": "", "organiser": "", "timezone": "Europe/Paris",
            "starts_at": START, "ends_at": END, "registration_opens_at": None, "registration_closes_at": closes_at,
            "contact_email": "", "featured": False, "times_confirmed": False, "created_at": START, "updated_at": START}


def test_migration_fills_missing_closing_times_and_caps_them_at_the_end(empty_database):
    with empty_database.app_context():
        upgrade(revision="0002_outbox_compose")
        with db.engine.begin() as conn:
            event = Table("event", MetaData(), autoload_with=conn)
            conn.execute(event.insert(), [_event("none", None), _event("late", END + timedelta(days=1)),
                                          _event("early", EARLY)])
        upgrade(revision="0003_registration_window")
        with db.engine.connect() as conn:
            event = Table("event", MetaData(), autoload_with=conn)
            closing = {slug: moment.replace(tzinfo=moment.tzinfo or UTC) for slug, moment in conn.execute(
                select(event.c.slug, event.c.registration_closes_at))}
            column = next(c for c in inspect(conn).get_columns("event") if c["name"] == "registration_closes_at")
    assert closing == {"none": START, "late": END, "early": EARLY}
    assert column["nullable"] is False
