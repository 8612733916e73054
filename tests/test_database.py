"""The write lock and the one transaction idiom. SQLite: a POST request that reads, then writes while another
connection holds the write lock, must wait for its turn instead of failing at once with "database is locked".
Every backend: `write_transaction` commits its block or nothing, nested blocks join the outermost, and no write
transaction begins (or commits) over writes someone else left pending."""

import inspect
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

import seminar
from seminar.audit.models import AuditEntry
from seminar.database import PendingWrites, begin_write_transaction, write_transaction
from seminar.events.models import Event
from seminar.extensions import db


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("upgrading a read transaction to a write one fails this way on SQLite only")


@pytest.mark.serial  # timed waits (tests/conftest.py)
def test_post_request_reading_then_writing_waits_for_a_concurrent_writer(app, seeded, sqlite_only):
    read_done, other_writing = threading.Event(), threading.Event()

    @app.post("/test-read-then-write")
    def read_then_write():
        event = db.session.scalar(select(Event))  # the transaction begins with this read
        read_done.set()
        # With the request holding the write lock, the other writer cannot start: this wait times out.
        other_writing.wait(timeout=2)
        event.subtitle = "written while another connection wanted to write"
        db.session.commit()
        return "ok"

    def other_writer():
        read_done.wait(timeout=5)
        with app.app_context():
            db.session.execute(text("UPDATE event SET organiser = organiser || ''"))
            other_writing.set()
            time.sleep(0.3)
            db.session.commit()

    thread = threading.Thread(target=other_writer)
    thread.start()
    response = app.test_client().post("/test-read-then-write")
    thread.join(timeout=10)
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Event.subtitle)) == "written while another connection wanted to write"


def test_get_requests_do_not_take_the_write_lock(app, seeded, sqlite_only):
    seen = {}

    @app.get("/test-read-only")
    def read_only():
        db.session.scalar(select(Event.id))
        seen["in_transaction"] = db.session.connection().connection.driver_connection.in_transaction
        # Another connection can still take the write lock while this read is open.
        other = db.engine.raw_connection()
        try:
            cursor = other.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("ROLLBACK")
        finally:
            other.close()
        return "ok"

    assert app.test_client().get("/test-read-only").status_code == 200
    assert seen["in_transaction"] is True


@pytest.mark.serial  # timed waits (tests/conftest.py)
def test_a_writer_waits_for_the_write_lock_and_takes_it_once_released(app, seeded, sqlite_only):
    """BEGIN IMMEDIATE polls the lock itself (see seminar.database._begin_immediate); SQLite's busy timeout is
    put back afterwards for the statements that rely on it."""
    from seminar.database import BUSY_TIMEOUT_MS, begin_write_transaction

    with app.app_context():
        holder = db.engine.raw_connection()
    holder.cursor().execute("BEGIN IMMEDIATE")
    released = []

    def release():
        time.sleep(0.3)
        released.append(time.monotonic())
        holder.cursor().execute("COMMIT")

    thread = threading.Thread(target=release)
    thread.start()
    try:
        with app.app_context():
            begin_write_transaction()
            acquired = time.monotonic()
            connection = db.session.connection()
            assert connection.connection.driver_connection.in_transaction
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
            db.session.rollback()
    finally:
        thread.join()
        holder.close()
    assert acquired >= released[0]


@pytest.mark.serial  # timed waits (tests/conftest.py)
def test_a_writer_gives_up_when_the_lock_is_never_released(app, seeded, sqlite_only, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from seminar import database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    with app.app_context():
        holder = db.engine.raw_connection()
    holder.cursor().execute("BEGIN IMMEDIATE")
    try:
        with app.app_context():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                database.begin_write_transaction()
            assert 0.2 <= time.monotonic() - started < 2
            db.session.rollback()
    finally:
        holder.cursor().execute("ROLLBACK")
        holder.close()


def test_a_view_writing_through_services_takes_the_write_lock_only_to_write(app, seeded, sqlite_only):
    import sqlite3

    from seminar.database import begin_write_transaction, writes_through_services

    seen = {}

    def another_writer_can_start() -> bool:
        other = db.engine.raw_connection()
        try:
            cursor = other.cursor()
            cursor.execute("PRAGMA busy_timeout=0")
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()

    @app.post("/test-services-write")
    @writes_through_services
    def services_write():
        db.session.scalar(select(Event.id))
        seen["while reading"] = another_writer_can_start()
        begin_write_transaction()
        seen["while writing"] = another_writer_can_start()
        db.session.commit()
        return "ok"

    assert app.test_client().post("/test-services-write").status_code == 200
    assert seen == {"while reading": True, "while writing": False}


# --- write_transaction: the one way a service writes -------------------------------------------------------

class Boom(Exception):
    pass


def _saved_actions() -> list[str]:
    """What another connection sees: only what was committed."""
    with db.engine.connect() as other:
        return list(other.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_write_transaction_commits_the_blocks_writes(ctx):
    with write_transaction():
        db.session.add(AuditEntry(action="test.added"))
        db.session.execute(insert(AuditEntry).values(action="test.inserted", details={}))

    assert _saved_actions() == ["test.added", "test.inserted"]
    assert not db.session().in_transaction()


def test_write_transaction_rolls_back_everything_on_an_exception(ctx):
    with pytest.raises(Boom), write_transaction():
        db.session.add(AuditEntry(action="test.flushed"))
        db.session.flush()
        db.session.execute(insert(AuditEntry).values(action="test.inserted", details={}))
        db.session.add(AuditEntry(action="test.pending"))
        raise Boom

    assert _saved_actions() == []
    assert not db.session().in_transaction() and not db.session.new
    with write_transaction():  # the session is usable again
        db.session.add(AuditEntry(action="test.after"))
    assert _saved_actions() == ["test.after"]


def test_nested_write_transactions_join_the_outermost(ctx):
    with write_transaction():
        db.session.add(AuditEntry(action="test.outer"))
        with write_transaction():
            db.session.add(AuditEntry(action="test.inner"))
        assert _saved_actions() == []  # the inner block did not commit
        assert db.session().in_transaction()
    assert _saved_actions() == ["test.outer", "test.inner"]


def test_an_exception_after_a_nested_block_leaves_nothing(ctx):
    with pytest.raises(Boom), write_transaction():
        db.session.add(AuditEntry(action="test.outer"))
        with write_transaction():
            db.session.add(AuditEntry(action="test.inner"))
        raise Boom

    assert _saved_actions() == []


def _add(_entry):
    db.session.add(AuditEntry(action="test.pending"))


def _modify(entry):
    entry.action = "test.pending"


def _delete(entry):
    db.session.delete(entry)


def _flush(_entry):
    db.session.add(AuditEntry(action="test.pending"))
    db.session.flush()


def _statement(_entry):
    db.session.execute(insert(AuditEntry).values(action="test.pending", details={}))


def _enter_write_transaction():
    with write_transaction():
        pytest.fail("the block of a refused write transaction runs")


@pytest.mark.parametrize("begin", [begin_write_transaction, _enter_write_transaction],
                         ids=["begin_write_transaction", "write_transaction"])
@pytest.mark.parametrize("pending", [_add, _modify, _delete, _flush, _statement])
def test_a_write_transaction_refuses_pending_writes_and_commits_none(ctx, begin, pending):
    with write_transaction():
        db.session.add(AuditEntry(action="test.committed"))
    entry = db.session.scalar(select(AuditEntry))
    pending(entry)

    with pytest.raises(PendingWrites):
        begin()

    assert _saved_actions() == ["test.committed"]  # the pending write was not committed
    assert db.session().in_transaction()  # nor thrown away: it is still its maker's to commit or roll back
    db.session.rollback()
    assert _saved_actions() == ["test.committed"]


def test_a_write_transaction_takes_over_a_transaction_that_only_read(ctx):
    with write_transaction():
        db.session.add(AuditEntry(action="test.first"))
    entry = db.session.scalar(select(AuditEntry))
    assert db.session().in_transaction()

    with write_transaction():
        entry.action = "test.changed"
        db.session.add(AuditEntry(action="test.second"))

    assert _saved_actions() == ["test.changed", "test.second"]


def test_no_view_commits_or_opens_a_write_transaction(app):
    """Views read the request, call services and render: the services own the transactions. Every module that
    defines a view (the app's routes, and any views.py, *_views.py or blueprint.py) is scanned."""
    package = Path(seminar.__file__).parent
    modules = {inspect.unwrap(view).__module__ for view in app.view_functions.values()}
    files = {Path(sys.modules[name].__file__) for name in modules if name.startswith("seminar.")}
    files |= {*package.rglob("views.py"), *package.rglob("*_views.py"), *package.rglob("blueprint.py")}
    assert {"checkin/views.py", "admin/registrant_views.py", "accounts/views.py"} <= {
        str(path.relative_to(package)) for path in files}

    offenders = [f"{path.relative_to(package)}:{number}: {line.strip()}"
                 for path in sorted(files)
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.commit\(|write_transaction\(", line)]
    assert offenders == []
