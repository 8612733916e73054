"""50 simultaneous registrations through a real threaded server for a round table with 10 seats."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from seminar.extensions import db
from seminar.registration.models import Registration, RegistrationStatus, SessionSeat
from tests.registration.conftest import REGISTER_URL, form_data, round_table_ids, set_capacity

CLIENTS = 50


def test_fifty_simultaneous_registrations_never_overbook(app, seeded, live_server):
    table = round_table_ids(seeded)[0]
    set_capacity(app, sessions={table: 10})
    start = threading.Barrier(CLIENTS)
    statuses: list[int] = []
    errors: list[str] = []

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)

    def register(n: int) -> None:
        body = urllib.parse.urlencode(form_data(seeded, email=f"rush{n}@example.org", sessions=str(table)))
        request = urllib.request.Request(live_server + REGISTER_URL, data=body.encode(), method="POST")  # noqa: S310
        start.wait()
        try:
            with opener.open(request, timeout=120) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:  # 303 arrives here since redirects are not followed
            statuses.append(error.code)
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))

    threads = [threading.Thread(target=register, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert statuses == [303] * CLIENTS
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == CLIENTS
        counts = dict(db.session.execute(
            select(SessionSeat.status, func.count()).where(SessionSeat.session_id == table).group_by(SessionSeat.status)
        ).all())
    assert counts == {RegistrationStatus.confirmed: 10, RegistrationStatus.waitlisted: 40}
