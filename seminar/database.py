"""Engine set-up per backend and the write lock that capacity checks rely on."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from seminar.extensions import db


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, and transactions begun by us so that BEGIN IMMEDIATE is possible."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, emit BEGIN (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate") or _in_unsafe_request()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _in_unsafe_request() -> bool:
    """A POST (or other unsafe) request may read, then write. In WAL mode a transaction whose read
    snapshot another connection has since committed past cannot become a writer: SQLite answers
    "database is locked" at once, without waiting. So on SQLite such requests take the write lock
    when their transactions begin; safe requests only read and stay concurrent."""
    return has_request_context() and request.method not in SAFE_METHODS


def begin_write_transaction() -> None:
    """Start the current session's transaction holding the write lock where the backend needs it.

    SQLite takes its database-wide write lock up front (BEGIN IMMEDIATE), so that a read
    followed by a write cannot interleave with another writer. On PostgreSQL the caller then
    locks the rows it reads with SELECT … FOR UPDATE. Any transaction already open is committed
    first: a service owns its transaction.
    """
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={"sqlite_immediate": True})
