"""The PostgreSQL connections of the app dropped (`pg_terminate_backend`) while registrations are in flight
through the live server: each request succeeds or fails cleanly (the error page), no registration is
half-written (each has its seat and its e-mail, or does not exist), and the pool recovers."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select, text

from seminar.extensions import db
from seminar.mail.models import OutboxMessage
from seminar.registration.models import Registration, SessionSeat
from tests.registration.conftest import REGISTER_URL, form_data, round_table_ids

PG_URL = os.environ.get("SEMINAR_TEST_DATABASE_URL")
APP_NAME = "seminar-fault-test"  # how the killer recognises the app's backends
REGISTRATIONS = 80


@pytest.fixture
def backend() -> str:
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set SEMINAR_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/"
                    "test; .ci/run does) to drop the app's connections with pg_terminate_backend")
    return "postgresql"


@pytest.fixture
def app_config() -> dict:
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"application_name": APP_NAME}}}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post_registration(base_url: str, seeded, n: int) -> tuple[int, str]:
    body = urllib.parse.urlencode(form_data(seeded, email=f"drop{n}@example.org"), doseq=True).encode()
    request = urllib.request.Request(base_url + REGISTER_URL, data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:  # 303 (not followed) and error pages arrive here
        return error.code, error.read().decode()


class BackendKiller:
    """Terminates the app's PostgreSQL backends (in a transaction or idle in the pool) five times a second."""

    def __init__(self):
        self.engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        self.terminated = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while not self.stop.wait(0.2):
                self.terminated += len(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": APP_NAME}).all())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)
        self.engine.dispose()


def test_database_connections_dropped_mid_run_fail_cleanly_and_pool_recovers(app, seeded, live_server):
    table = round_table_ids(seeded)[0]
    with BackendKiller() as killer, ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: _post_registration(live_server, seeded, n), range(REGISTRATIONS)))
    assert killer.terminated > 0

    statuses = [status for status, _page in answers]
    assert set(statuses) <= {303, 500}, statuses
    assert 500 in statuses  # connections were dropped in the middle of requests, not only while idle
    failed = [page for status, page in answers if status == 500]
    assert all("Traceback" not in page and "<h1>" in page for page in failed)  # the error page, nothing more

    # The pool recovers: dead connections are replaced (pool_pre_ping), the next requests succeed.
    after = [_post_registration(live_server, seeded, REGISTRATIONS + n)[0] for n in range(5)]
    assert after == [303] * 5

    with app.app_context():
        registrations = list(db.session.scalars(select(Registration)))
        saved = {r.email for r in registrations}
        succeeded = {f"drop{n}@example.org" for n, (status, _page) in enumerate(answers) if status == 303}
        assert succeeded <= saved  # an answered registration is never lost
        for registration in registrations:  # all or nothing: the seat and the e-mail came with it
            seats = db.session.scalar(select(func.count()).select_from(SessionSeat)
                                      .where(SessionSeat.registration_id == registration.id,
                                             SessionSeat.session_id == table))
            mails = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.registration_id == registration.id))
            assert (seats, mails > 0) == (1, True), registration.email
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.registration_id.not_in(select(Registration.id)))) == 0
        db.session.remove()
