"""The committed migrations build the same schema as the models, on each backend."""

from flask_migrate import upgrade
from sqlalchemy import inspect, text

from seminar import create_app
from seminar.extensions import db
from tests.conftest import PG_URL


def _migrated_app(url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": str(tmp_path)})
    return app


def _check(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert diff == []


def test_migrations_on_empty_sqlite(tmp_path):
    _check(_migrated_app(f"sqlite:///{tmp_path / 'm.sqlite'}", tmp_path))


def test_migrations_on_empty_postgresql(tmp_path):
    import pytest

    if not PG_URL:
        pytest.skip("SEMINAR_TEST_DATABASE_URL is not set")
    app = _migrated_app(PG_URL, tmp_path)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    try:
        _check(app)
    finally:
        import tests.conftest as conftest

        conftest._pg_schema_ready = False  # the next test recreates the schema from the models
