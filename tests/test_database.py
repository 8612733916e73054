"""SQLite: a POST request that reads, then writes while another connection holds the write lock,
must wait for its turn instead of failing at once with "database is locked"."""

import threading
import time

import pytest
from sqlalchemy import select, text

from seminar.events.models import Event
from seminar.extensions import db


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("upgrading a read transaction to a write one fails this way on SQLite only")


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
