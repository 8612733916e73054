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
        connection.info[_HOLDS_WRITE_LOCK] = bool(immediate)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HOLDS_WRITE_LOCK = "seminar.holds_write_lock"


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
    locks the rows it reads with SELECT … FOR UPDATE. A service owns its transaction: one already
    open is committed first, unless it only read and can serve as the service's (PostgreSQL at
    READ COMMITTED, or SQLite begun IMMEDIATE, as in a POST request): the view's reads then cost
    no second BEGIN, connection check-out and COMMIT. Its objects are expired, so that what the
    service reads is read again.
    """
    session = db.session()
    if session.in_transaction():
        if not (session.new or session.dirty or session.deleted) and _holds_write_lock(session):
            session.expire_all()
            return
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})


def _holds_write_lock(session) -> bool:
    connection = session.connection()
    return connection.dialect.name != "sqlite" or bool(connection.info.get(_HOLDS_WRITE_LOCK))
