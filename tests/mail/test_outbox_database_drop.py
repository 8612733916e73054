"""The delivery loops (`flask outbox deliver --watch`, `flask worker`) survive the database going away: their
connections are cut and new ones refused for a while (a TCP relay in front of PostgreSQL, closed and opened
again), then the next message is delivered by the same process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading

import pytest
from sqlalchemy.engine import make_url

from seminar.mail.models import OutboxStatus
from tests.mail.processes import end, enqueue_many, output, received, start_flask, statuses
from tests.waiting import wait_for

PG_URL = os.environ.get("SEMINAR_TEST_DATABASE_URL")


@pytest.fixture
def backend() -> str:
    if not PG_URL:
        pytest.skip("needs PostgreSQL (SEMINAR_TEST_DATABASE_URL): SQLite has no connection to drop")
    return "postgresql"


class Relay:
    """Forwards TCP connections from a local port to PostgreSQL; `cut()` closes them all and refuses new ones
    until `restore()`."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self.connections: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
        self.listener.close()
        with self._lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)  # the peer sees the connection end (close alone may not)
                connection.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # closed by `cut`
            server = socket.create_connection(self.target)
            with self._lock:
                self.connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end_ in (source, sink):
            with contextlib.suppress(OSError):
                end_.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def relay():
    url = make_url(PG_URL)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.restore()
    yield relay
    relay.cut()


@pytest.mark.parametrize(("command", "logged"), [
    (("outbox", "deliver", "--watch", "--interval", "0.2"), "Outbox delivery failed"),
    (("worker", "--poll", "0.2"), "worker iteration failed"),
], ids=["outbox", "worker"])
def test_delivery_loop_survives_the_database_going_away(app, smtp, relay, command, logged):
    smtp.start()
    through_relay = make_url(PG_URL).set(host="127.0.0.1", port=relay.port)
    process = start_flask(app, *command, MAIL_URL=smtp.url,
                          SQLALCHEMY_DATABASE_URI=through_relay.render_as_string(hide_password=False))
    try:
        expected = enqueue_many(app, 1)
        wait_for(lambda: statuses(app) == {OutboxStatus.sent: 1}, "the first message", deadline=60)
        relay.cut()
        wait_for(lambda: output(process).count(logged) >= 2, "looks at the outbox to fail", deadline=20)
        assert process.poll() is None, output(process)
        relay.restore()
        expected |= enqueue_many(app, 3)
        wait_for(lambda: statuses(app) == {OutboxStatus.sent: 4}, "the messages after the outage", deadline=60)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        end(process)
    assert process.returncode == 0, output(process)
    got = received(smtp)
    assert set(got) == expected and max(got.values()) == 1
