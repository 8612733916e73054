"""Engine set-up per backend and the write lock that capacity checks rely on."""

from __future__ import annotations

import random
import sqlite3
import time
from contextlib import contextmanager

from flask import current_app, has_request_context, request
from sqlalchemy import String, event, exc, literal
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from seminar.extensions import db
from seminar.text import fold


class folded(FunctionElement):  # noqa: N801  (used like a SQL function: folded(Registration.last_name))
    """`seminar.text.fold` in SQL: lower case without accents, on both databases. SQLite calls the Python function
    itself (registered on each connection); PostgreSQL translates the accented letters of the Latin alphabets
    (the table is built from `fold`, so both agree on them) and lowers the case."""

    type = String()
    inherit_cache = True
    name = "seminar_fold"


def _folding_table() -> tuple[str, str]:
    """The letters that `fold` turns into one other letter (accented Latin letters, upper case), and theirs."""
    source, target = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        plain = fold(char)
        if len(plain) == 1 and plain != char.lower():
            source.append(char)
            target.append(plain)
    return "".join(source), "".join(target)


_FOLD_FROM, _FOLD_TO = _folding_table()


@compiles(folded, "postgresql")
def _folded_postgresql(element, compiler, **kw):
    text, source, target = (compiler.process(part, **kw)
                            for part in (element.clauses, literal(_FOLD_FROM), literal(_FOLD_TO)))
    return f"lower(translate({text}, {source}, {target}))"


@compiles(folded)
def _folded_other(element, compiler, **kw):  # SQLite: the function registered in configure_engine
    return f"seminar_fold({compiler.process(element.clauses, **kw)})"


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, foreign keys, and transactions begun by us so that BEGIN IMMEDIATE is possible."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, emit BEGIN (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        dbapi_connection.create_function("seminar_fold", 1, fold, deterministic=True)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate") or _in_unsafe_request()
        if immediate:
            _begin_immediate(connection.connection.dbapi_connection)
        else:
            connection.exec_driver_sql("BEGIN")
        connection.info[_HOLDS_WRITE_LOCK] = bool(immediate)


BUSY_TIMEOUT_MS = 30_000
# Waiting for SQLite's write lock: tries this often at most, after a first short pause.
_LOCK_POLL_FIRST, _LOCK_POLL_MAX = 0.0005, 0.004


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in steps of a few milliseconds. SQLite's own busy handler
    sleeps ever longer between tries (up to 100 ms), so that under a rush the process that has waited longest
    is often the last to get the lock: in bench/registration.py on SQLite some registrations waited seconds.
    Gives up after BUSY_TIMEOUT_MS, as the busy handler would (OperationalError, "database is locked")."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = _LOCK_POLL_FIRST
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise exc.OperationalError("BEGIN IMMEDIATE", (), error) from error
            time.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311  (spreading retries, not a secret)
            pause = min(pause * 2, _LOCK_POLL_MAX)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HOLDS_WRITE_LOCK = "seminar.holds_write_lock"


def _in_unsafe_request() -> bool:
    """A POST (or other unsafe) request may read, then write. In WAL mode a transaction whose read
    snapshot another connection has since committed past cannot become a writer: SQLite answers
    "database is locked" at once, without waiting. So on SQLite such requests take the write lock
    when their transactions begin; safe requests only read and stay concurrent, and so do the views
    marked `writes_through_services`."""
    if not has_request_context() or request.method in SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, _SERVICES_WRITE, False)


_SERVICES_WRITE = "seminar_writes_through_services"


def writes_through_services(view):
    """Mark a view whose every write goes through services that begin with `begin_write_transaction`: on
    SQLite its request takes the write lock only there, not from its first read, so that what it reads
    around the write (the signed-in account, the answer it shows) does not keep other writers waiting."""
    setattr(view, _SERVICES_WRITE, True)
    return view


class PendingWrites(RuntimeError):
    """A write transaction was asked for while the session held someone else's unfinished writes: committing
    them silently would make them part of a transaction that did not make them."""


@contextmanager
def write_transaction():
    """The one way a service writes: begin with the write lock where the backend needs it
    (`begin_write_transaction`), let the block change what it must, commit; on any exception roll everything
    back (the locks go with it). Nested blocks join the outermost one, which alone commits, so that a service
    may call another inside its own transaction. Views never commit: they call services.
    """
    session = db.session()
    if session.info.get(_IN_WRITE_TRANSACTION):
        yield
        return
    begin_write_transaction()
    session.info[_IN_WRITE_TRANSACTION] = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_IN_WRITE_TRANSACTION, None)


_IN_WRITE_TRANSACTION = "seminar.in_write_transaction"


def begin_write_transaction() -> None:
    """Start the current session's transaction holding the write lock where the backend needs it.

    SQLite takes its database-wide write lock up front (BEGIN IMMEDIATE), so that a read
    followed by a write cannot interleave with another writer. On PostgreSQL the caller then
    locks the rows it reads with SELECT … FOR UPDATE. A transaction already open that only read ends
    first, unless it can serve as the service's (PostgreSQL at READ COMMITTED, or SQLite begun IMMEDIATE,
    as in a POST request): the view's reads then cost no second BEGIN, connection check-out and COMMIT.
    Its objects are expired, so that what the service reads is read again. One that wrote is refused
    (PendingWrites): its writes belong to whoever made them, who must commit or roll them back.
    """
    session = db.session()
    if session.in_transaction():
        if _has_writes(session):
            raise PendingWrites("the session holds uncommitted writes; commit or roll them back first")
        if _holds_write_lock(session):
            session.expire_all()
            return
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})


_WROTE = "seminar.wrote"


def _has_writes(session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(_WROTE))


@event.listens_for(Session, "after_flush")
def _note_flush(session, _flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed or rolled back
        session.info.pop(_WROTE, None)


def _holds_write_lock(session) -> bool:
    connection = session.connection()
    return connection.dialect.name != "sqlite" or bool(connection.info.get(_HOLDS_WRITE_LOCK))


def execute_committing(statements: list[tuple]) -> list[list[tuple]]:
    """Run Core statements, each with its parameters, and commit; each one's rows (plain values) in order.

    With psycopg they go in one pipeline that ends with COMMIT: the server runs them back to back without
    waiting for the client between them, so a lock taken by one of them is held for the server's work only
    (on a busy machine each round trip otherwise waits for the web process to be scheduled again, and every
    transaction queued behind the lock waits too: bench/registration.py). Parameters go as the database stores
    them (no type conversion: enums by name). Elsewhere the statements run one by one, then the session commits.
    Errors come as SQLAlchemy's DBAPIError subclasses (IntegrityError…), as from any statement."""
    session = db.session()
    connection = session.connection()
    if connection.dialect.driver != "psycopg":
        results = (connection.execute(statement, params) for statement, params in statements)
        rows = [[tuple(row) for row in result] if result.returns_rows else [] for result in results]
        session.commit()
        return rows
    raw = connection.connection.dbapi_connection
    dbapi = connection.dialect.loaded_dbapi
    try:
        with raw.pipeline():
            cursors = []
            for statement, params in statements:
                sql, compiled = _compiled(statement, connection.dialect)
                cursors.append(raw.execute(sql, compiled.construct_params(params)))
            raw.commit()  # COMMIT and the pipeline's only synchronisation: one round trip for all
    except dbapi.Error as error:
        raise exc.DBAPIError.instance(None, None, error, dbapi.Error) from error
    rows = [[tuple(row) for row in cursor.fetchall()] if cursor.description else [] for cursor in cursors]
    session.commit()  # the database has committed already: this ends the session's transaction, no statement
    return rows


_COMPILED: dict = {}


def _compiled(statement, dialect) -> tuple[str, object]:
    """A statement's SQL and compiled form, once per statement and dialect (compiling costs more than running)."""
    key = (statement, dialect.name, dialect.driver)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect)
        _COMPILED[key] = (str(compiled), compiled)
    return _COMPILED[key]
