"""Simultaneous registrations through a real threaded server: 50 for a round table with 10 seats, 10 with one
address; and the event's lock held, by a registration, for the decision alone."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import func, select, text

from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration import services
from seminar.registration.models import Registration, RegistrationStatus, SeatStatus, SessionSeat
from tests.queries import count_queries
from tests.registration.conftest import REGISTER_URL, details, form_data, round_table_ids, set_capacity
from tests.waiting import wait_for

CLIENTS = 50


def _post_at_once(live_server, bodies: list[dict]) -> tuple[list[int], list[str]]:
    """POST each form at the same instant (one thread each); (statuses, errors)."""
    start = threading.Barrier(len(bodies))
    statuses: list[int] = []
    errors: list[str] = []

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def register(n: int) -> None:
        body = urllib.parse.urlencode(bodies[n], doseq=True)
        request = urllib.request.Request(live_server + REGISTER_URL, data=body.encode(), method="POST")  # noqa: S310
        start.wait()
        try:
            with opener.open(request, timeout=120) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:  # 303 arrives here since redirects are not followed
            statuses.append(error.code)
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))

    threads = [threading.Thread(target=register, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, errors


def test_fifty_simultaneous_registrations_never_overbook(app, seeded, live_server):
    table = round_table_ids(seeded)[0]
    set_capacity(app, sessions={table: 10})
    statuses, errors = _post_at_once(
        live_server, [form_data(seeded, email=f"rush{n}@example.org", sessions=str(table)) for n in range(CLIENTS)])
    assert errors == []
    assert statuses == [303] * CLIENTS
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == CLIENTS
        counts = dict(db.session.execute(
            select(SessionSeat.status, func.count()).where(SessionSeat.session_id == table).group_by(SessionSeat.status)
        ).all())
    assert counts == {SeatStatus.confirmed: 10, SeatStatus.waitlisted: 40}


def test_same_address_registering_ten_times_at_once_is_registered_once(app, seeded, live_server):
    """The registrations are written before the event is locked: the unique address per event settles the
    race, and the requests that lost it are answered like a second attempt, which sends no second e-mail."""
    statuses, errors = _post_at_once(live_server, [form_data(seeded, email="same@example.org")] * 10)
    assert errors == []
    assert statuses == [303] * 10
    with app.app_context():
        registrations = db.session.scalars(select(Registration)).all()
        assert [(r.email, r.status) for r in registrations] == [("same@example.org", RegistrationStatus.confirmed)]
        mails = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.registration_id == registrations[0].id))
    assert mails == 1  # its confirmation: the nine others came within REGISTRATION_LINK_RESEND_AFTER


def test_registration_writes_first_and_waits_for_the_event_lock_last(app, seeded, backend):
    """While another transaction holds the event's lock, a registration has already written its rows and
    waits in the database, at the lock, for the decision: it sends no statement one by one after that point
    (the lock, the two deciding UPDATEs and the COMMIT go in one psycopg pipeline)."""
    if backend != "postgresql":
        pytest.skip("SQLite locks the whole database for the transaction (BEGIN IMMEDIATE)")
    table = round_table_ids(seeded)[0]
    outcome: list = []
    with app.app_context():
        holder = db.engine.connect()  # locked as every service locks it (registrations can still refer to it)
        holder.execute(text("SELECT id FROM event WHERE id = :id FOR NO KEY UPDATE"), {"id": seeded.id})

        def register() -> None:
            with app.app_context(), count_queries() as statements:
                outcome.append(services.register(seeded.id, details(1), [table]))
                outcome.append(statements)

        thread = threading.Thread(target=register)
        thread.start()
        waiting = wait_for(lambda: db.session.execute(text(
            "SELECT a.pid FROM pg_stat_activity a WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()"
        )).scalar(), "the registration to wait for the event's lock", deadline=60)
        written = db.session.scalar(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = :pid "
            "AND c.relname IN ('registration', 'session_seat', 'outbox_message') AND l.mode = 'RowExclusiveLock'"
        ), {"pid": waiting})
        db.session.rollback()
        holder.rollback()
        holder.close()
        thread.join(timeout=60)
    assert written == 3
    registered, statements = outcome
    assert registered.status is RegistrationStatus.confirmed
    normalised = [" ".join(s.split()).lower() for s in statements]
    assert not [s for s in normalised if "for update" in s or "for no key update" in s]  # sent in the pipeline
