"""The outbox: messages are rows written in the transaction of the change that causes them, then delivered.

`enqueue` adds a message to the current database session (the caller commits it with its change).
`enqueue_to_compose` adds one whose bodies are not written yet, only what to write (a registrant e-mail):
the change that causes it stays a short transaction, and `compose_pending` writes it before delivery, with
the composers that areas register (`add_composer`).

After a commit that enqueued mail, the web process wakes a background thread that composes and delivers it
(MAIL_DELIVER_AFTER_COMMIT), so that no request waits on SMTP; in production a separate `flask outbox
deliver --watch` process does it instead. `deliver_pending` (also run by `flask outbox deliver [--watch]`
and `flask worker`) claims due messages, sends them and records the outcome:

- claiming marks MAIL_CLAIM_BATCH rows at a time `sending` in their own committed transaction (PostgreSQL:
  FOR UPDATE SKIP LOCKED, so concurrent workers take different rows; SQLite: BEGIN IMMEDIATE), hence a
  message is sent by one worker only; the next batch is claimed when this one is done;
- a claim is a lease: `claimed_at` names it (the time it was taken, which fences every later write of the
  claimer), and while a row is `sending` its `next_attempt_at` is when the lease lapses, MAIL_CLAIM_LEASE
  seconds ahead. A thread of the claiming process renews it every third of that. A worker that dies
  (SIGKILL, power cut) stops renewing: its messages are due again within MAIL_CLAIM_LEASE seconds and are
  retried with the same Message-ID, so that a receiving system can recognise the rare duplicate (only the
  message whose SMTP transaction the death interrupted can be one). A worker that could not renew (the
  database unreachable) sends no more of the batch once its lease may have lapsed;
- each outcome is committed as soon as it is known (retried for MAIL_CLAIM_LEASE seconds if the database
  cannot be reached): a sent message is never sent again;
- a failure puts the message back with exponential back-off (1 min, 2, 4 … up to 1 h), and after
  MAIL_MAX_ATTEMPTS attempts marks it `failed`;
- stopping (`stop` set: SIGTERM or SIGINT for the commands, interpreter exit for the background thread)
  finishes the message being sent and releases the other claims: back to `pending`, due, their attempt not
  counted.
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import Flask, current_app
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession

from seminar.database import write_transaction
from seminar.extensions import db, utcnow
from seminar.mail.models import OutboxMessage, OutboxStatus
from seminar.mail.transport import build_message, transport_for

log = logging.getLogger(__name__)

_SESSION_FLAG = "seminar.outbox.enqueued"
_COMPOSERS_KEY = "seminar.outbox.composers"
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)


def enqueue(
    to_addr: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    *,
    ics: str | None = None,
    ics_method: str | None = None,
    coalesce_key: str | None = None,
    first_for_key: bool = False,
    event_id: int | None = None,
    registration_id: int | None = None,
    sender_name: str = "",
    reply_to: str = "",
    inline_images: Sequence[InlineImage] = (),
) -> OutboxMessage:
    """Add a message to the current session (no commit). A pending message with the same
    `coalesce_key` is replaced rather than joined by a second one (e.g. quick successive calendar updates).
    `first_for_key`: the caller knows no message was ever queued with this key (e.g. the round-table seat it
    is about was created in this transaction), which spares the lookup. `sender_name` and `reply_to`: the
    organiser's identity (`Event.mail_identity`)."""
    message = None
    if coalesce_key and not first_for_key:
        message = db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.coalesce_key == coalesce_key, OutboxMessage.status == OutboxStatus.pending)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    if message is None:
        message = _new_message()
    write(message, to_addr, subject, text_body, html_body, ics=ics, ics_method=ics_method, coalesce_key=coalesce_key,
          sender_name=sender_name, reply_to=reply_to, inline_images=inline_images)
    message.event_id, message.registration_id = event_id, registration_id
    return message


def enqueue_to_compose(kind: str, about: dict, *, to_addr: str, event_id: int | None = None,
                       registration_id: int | None = None) -> OutboxMessage:
    """Add a message that a composer registered for `kind` will write later (`about`: JSON-ready values it
    needs); it is not delivered before. Costs one INSERT in the caller's transaction (no commit)."""
    message = _new_message(event_id=event_id, registration_id=registration_id)
    message.to_addr, message.subject, message.text_body, message.html_body = to_addr, "", "", ""
    message.compose_kind, message.compose_args = kind, json.dumps(about)
    return message


def row_to_compose(kind: str, about: dict, *, to_addr: str, event_id: int, registration_id: int) -> dict:
    """The column values of a message like `enqueue_to_compose`'s, for a caller that INSERTs it with its own
    statements (registering: one round trip for all its rows); it commits through the current session, so
    the delivery thread is woken as for any enqueued message."""
    db.session.info[_SESSION_FLAG] = True
    now = utcnow()
    return {
        "created_at": now, "to_addr": to_addr, "subject": "", "text_body": "", "html_body": "", "ics": None,
        "ics_method": None, "coalesce_key": None, "sender_name": "", "reply_to": "", "inline_images": None,
        "status": OutboxStatus.pending.name, "attempts": 0,
        "next_attempt_at": now, "claimed_at": None, "sent_at": None, "last_error": "",
        "message_id": make_msgid(domain=_mail_domain()), "event_id": event_id, "registration_id": registration_id,
        "compose_kind": kind, "compose_args": json.dumps(about),
    }


@dataclass(frozen=True)
class InlineImage:
    """An image that the HTML part shows as `<img src="cid:{cid}">`."""

    cid: str
    mimetype: str
    data: bytes


def write(message: OutboxMessage, to_addr: str, subject: str, text_body: str, html_body: str = "", *,
          ics: str | None = None, ics_method: str | None = None, coalesce_key: str | None = None,
          sender_name: str = "", reply_to: str = "", inline_images: Sequence[InlineImage] = ()) -> None:
    """Fill in `message` (new, or one recorded with `enqueue_to_compose`): it is then due at once."""
    message.to_addr = to_addr
    message.sender_name, message.reply_to = sender_name[:200], reply_to[:254]
    message.inline_images = [{"cid": image.cid, "mimetype": image.mimetype,
                              "data": base64.b64encode(image.data).decode("ascii")}
                             for image in inline_images] or None
    message.subject = subject[:300]
    message.text_body = text_body
    message.html_body = html_body
    message.ics = ics
    message.ics_method = ics_method
    message.coalesce_key = coalesce_key
    message.compose_kind = message.compose_args = None
    message.next_attempt_at = utcnow()
    db.session.info[_SESSION_FLAG] = True


def _new_message(**values) -> OutboxMessage:
    message = OutboxMessage(message_id=make_msgid(domain=_mail_domain()), **values)
    db.session.add(message)
    db.session.info[_SESSION_FLAG] = True
    return message


# A composer writes the recorded messages of its kinds: `composer(message, about)` calls `write(message, …)`
# or deletes the message when there is nothing to send any more. It runs in its own write transaction.
Composer = Callable[[OutboxMessage, dict], None]


def add_composer(app: Flask, kind: str, composer: Composer) -> None:
    """Register the function that writes recorded messages of `kind` (once, when the app is configured)."""
    app.extensions.setdefault(_COMPOSERS_KEY, {})[kind] = composer


def compose_pending(limit: int = 100, *, stop: threading.Event | None = None) -> int:
    """Write up to `limit` recorded messages, oldest first, each in its own short write transaction (on SQLite
    a long one would hold the database's write lock away from registrations), until `stop` is set. A message
    whose composition fails is marked failed with the error; it is never sent half written. Returns how many
    were handled."""
    composers = current_app.extensions.get(_COMPOSERS_KEY, {})
    waiting = select(OutboxMessage.id).where(
        OutboxMessage.compose_kind.is_not(None), OutboxMessage.status == OutboxStatus.pending
    ).order_by(OutboxMessage.id).limit(limit)
    ids = list(db.session.scalars(waiting))
    db.session.rollback()
    handled = 0
    for message_id in ids:
        if _stopping(stop):
            break
        with write_transaction():
            message = db.session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.compose_kind.is_not(None),
                       OutboxMessage.status == OutboxStatus.pending)
                .with_for_update(skip_locked=True)
            )
            if message is None:  # written by another worker meanwhile (nothing written here: the commit ends it)
                continue
            kind, about = message.compose_kind, json.loads(message.compose_args or "{}")
            try:
                composer = composers[kind]
                with db.session.begin_nested():
                    composer(message, about)
            except Exception as error:  # noqa: BLE001  (recorded on the message; the others go on)
                log.exception("Could not compose outbox message %s (%s)", message_id, kind)
                message.status, message.last_error = OutboxStatus.failed, f"{type(error).__name__}: {error}"[:2000]
        handled += 1
    return handled


def prune_sent() -> int:
    """Housekeeping: delete the messages sent more than MAIL_SENT_RETENTION_DAYS ago (their bodies hold
    names, addresses and self-service links). Pending and failed ones stay. Returns how many went."""
    cutoff = utcnow() - timedelta(days=current_app.config["MAIL_SENT_RETENTION_DAYS"])
    with write_transaction():
        removed = db.session.execute(
            delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.sent, OutboxMessage.sent_at < cutoff)
        ).rowcount
    return removed


def _mail_domain() -> str:
    sender = current_app.config.get("MAIL_FROM") or ""
    domain = sender.rsplit("@", 1)[-1].strip(" >")
    return domain or "localhost"


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _claim(limit: int, now: datetime, lease: _Lease) -> list[int]:
    """Mark up to `limit` due messages `sending` under `lease` and commit: from then on they belong to this
    worker. Due: pending and past `now`, or sending under a lease that lapsed (its worker died)."""
    claimed_at = utcnow()
    due = (
        select(OutboxMessage.id, OutboxMessage.status)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now)
                & OutboxMessage.compose_kind.is_(None),
                (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.next_attempt_at < claimed_at),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    started = time.monotonic()
    with write_transaction():
        rows = db.session.execute(due).all()
        ids = [message_id for message_id, _status in rows]
        if ids:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status=OutboxStatus.sending, claimed_at=claimed_at, attempts=OutboxMessage.attempts + 1,
                        next_attempt_at=claimed_at + lease.duration)
            )
    lapsed = [message_id for message_id, status in rows if status is OutboxStatus.sending]
    if lapsed:
        log.warning("Messages %s: their worker stopped renewing its claim; sending them again", lapsed)
    lease.hold(ids, claimed_at, started)
    return ids


class _Lease:
    """This worker's claim on the batch it is sending, renewed by a thread while the process lives.

    `holds(id)`: the message is still this worker's to send — not taken over by another worker that found
    the lease lapsed, and renewed recently enough that it cannot have lapsed since."""

    def __init__(self, app: Flask):
        self.app = app
        self.duration = timedelta(seconds=app.config["MAIL_CLAIM_LEASE"])
        self.token: datetime | None = None  # the claimed_at of the batch held
        self._ids: set[int] = set()
        self._valid_until = 0.0  # time.monotonic()
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self._renewer: threading.Thread | None = None

    def hold(self, ids: list[int], token: datetime, since: float) -> None:
        with self._lock:
            self._ids, self.token = set(ids), token
            self._valid_until = since + self.duration.total_seconds()
        if ids and self._renewer is None:
            self._renewer = threading.Thread(target=self._renew_until_ended, name="outbox-lease", daemon=True)
            self._renewer.start()

    def holds(self, message_id: int) -> bool:
        with self._lock:
            return message_id in self._ids and time.monotonic() < self._valid_until

    def let_go(self, message_id: int) -> None:
        with self._lock:
            self._ids.discard(message_id)

    def _renew_until_ended(self) -> None:
        while not self._ended.wait(self.duration.total_seconds() / 3):
            try:
                self._renew()
            except Exception:  # noqa: BLE001  (the next renewal may pass; meanwhile `holds` stops the sending)
                log.warning("Could not renew the claim on outbox messages", exc_info=True)

    def _renew(self) -> None:
        with self._lock:
            ids, token = set(self._ids), self.token
        if not ids:
            return
        started = time.monotonic()
        mine = (OutboxMessage.id.in_(ids) & (OutboxMessage.status == OutboxStatus.sending)
                & (OutboxMessage.claimed_at == token))
        with self.app.app_context(), db.engine.connect() as connection:
            connection.execution_options(sqlite_immediate=True)
            with connection.begin():
                connection.execute(update(OutboxMessage).where(mine).values(next_attempt_at=utcnow() + self.duration))
                kept = set(connection.scalars(select(OutboxMessage.id).where(mine)))
        with self._lock:
            if self.token == token:
                taken = (self._ids & ids) - kept
                if taken:
                    log.warning("Messages %s were taken over by another worker: not sending them", sorted(taken))
                self._ids &= kept
                self._valid_until = started + self.duration.total_seconds()

    def end(self) -> None:
        """Stop renewing and release the claims still held (messages not sent): pending again, due now, the
        attempt not counted. If the database cannot be reached they lapse instead, MAIL_CLAIM_LEASE later."""
        self._ended.set()
        if self._renewer is not None:
            self._renewer.join()
        with self._lock:
            ids, self._ids = self._ids, set()
        if not ids:
            return
        try:
            db.session.rollback()
            _record(sorted(ids), self.token, retry_for=0, status=OutboxStatus.pending,
                    attempts=OutboxMessage.attempts - 1, next_attempt_at=utcnow())
        except Exception:  # noqa: BLE001  (an error on the way out must not hide the one that got us here)
            log.warning("Could not release the claims on outbox messages %s; they lapse in %s",
                        sorted(ids), self.duration, exc_info=True)
        else:
            log.info("Released %d claimed outbox messages, not sent", len(ids))


def _stopping(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def deliver_pending(limit: int = 100, *, now: datetime | None = None, stop: threading.Event | None = None) -> dict:
    """Write the recorded messages (`compose_pending`), then send up to `limit` due ones, MAIL_CLAIM_BATCH at
    a time; returns counts {"composed", "claimed", "sent", "retry", "failed"} (claimed minus the others:
    released when `stop` was set).

    `now` lets a caller (a test, a catch-up run) treat messages as due earlier than the back-off says.
    `stop`, once set, ends the delivery after the message being sent; the other claims are released.
    The claimed messages are read and built first; no transaction stays open while sending, and each
    outcome is written in its own write transaction (on SQLite, a transaction that read first could not
    take the write lock once another process has written: "database is locked", the message sent but
    left `sending`, hence sent again when its lease lapsed).
    """
    composed = compose_pending(limit, stop=stop)
    counts = {"composed": composed, "claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    app = current_app._get_current_object()
    batch_size = app.config["MAIL_CLAIM_BATCH"]
    lease = _Lease(app)
    with ExitStack() as resources:
        resources.callback(lease.end)  # last, after the transport is closed
        transport = unreachable = None
        while counts["claimed"] < limit and not _stopping(stop):
            ids = _claim(min(batch_size, limit - counts["claimed"]), now or utcnow(), lease)
            if not ids:
                break
            counts["claimed"] += len(ids)
            outgoing = _read_claimed(ids, app.config["MAIL_FROM"])
            if transport is None and unreachable is None:
                try:
                    transport = resources.enter_context(transport_for(app))
                except Exception as error:  # noqa: BLE001  (the server is unreachable: every due message waits)
                    log.warning("Mail transport unavailable: %s", error)
                    unreachable = error
            if unreachable is not None:  # recorded as each message's failure, without connecting again
                outgoing = [(message_id, attempts, unreachable) for message_id, attempts, _mime in outgoing]
            _send_batch(transport, outgoing, lease, counts, stop)
    return counts


def _read_claimed(ids: list[int], sender: str) -> list[tuple[int, int, EmailMessage | Exception]]:
    claimed = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    outgoing = [_prepare(message, sender) for message in db.session.scalars(claimed)]
    db.session.rollback()  # end the read: nothing is held while the mail server is talked to
    return outgoing


def _send_batch(transport, outgoing, lease: _Lease, counts: dict, stop: threading.Event | None) -> None:
    for message_id, attempts, mime in outgoing:
        if _stopping(stop):
            return  # the claims left are released by `lease.end`
        if not lease.holds(message_id):
            continue  # taken over, or the lease may have lapsed: another worker may be sending it
        try:
            if isinstance(mime, Exception):
                raise mime
            transport.send(mime)
        except Exception as error:  # noqa: BLE001  (any failure is recorded and retried)
            lease.let_go(message_id)
            _record_failure(message_id, lease.token, attempts, error, counts)
        else:
            lease.let_go(message_id)
            # Sent is true whoever holds the claim now: recorded without the fence, so nobody sends it again.
            _record([message_id], None, status=OutboxStatus.sent, sent_at=utcnow(), last_error="")
            counts["sent"] += 1


def _prepare(message: OutboxMessage, sender: str) -> tuple[int, int, EmailMessage | Exception]:
    """(id, attempts, the MIME message or the error that building it raised)."""
    try:
        return message.id, message.attempts, build_message(message, sender)
    except Exception as error:  # noqa: BLE001  (recorded as this message's failure)
        return message.id, message.attempts, error


def _record(ids, token: datetime | None, *, retry_for: float | None = None, **values) -> None:
    """Write the outcome of messages and commit it at once: a sent message is never sent again. `token`:
    only while they are still `sending` under this claim (not taken over by another worker). When the
    database cannot be reached it tries again for `retry_for` seconds (MAIL_CLAIM_LEASE): a message whose
    sending could not be recorded is sent again later (with its Message-ID)."""
    where = OutboxMessage.id.in_(ids)
    if token is not None:
        where &= (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.claimed_at == token)
    deadline = time.monotonic() + (current_app.config["MAIL_CLAIM_LEASE"] if retry_for is None else retry_for)
    pause = 0.2
    while True:
        try:
            with write_transaction():
                db.session.execute(update(OutboxMessage).where(where).values(**values))
            return
        except OperationalError as error:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("Could not record the outcome of outbox messages %s (%s); trying again in %.1f s",
                        ids, str(error).splitlines()[0], pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def _record_failure(message_id: int, token: datetime | None, attempts: int, error: Exception, counts: dict) -> None:
    last_error = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        _record([message_id], token, status=OutboxStatus.failed, last_error=last_error)
        counts["failed"] += 1
        log.error("Giving up on message %s: %s", message_id, last_error)
    else:
        _record([message_id], token, status=OutboxStatus.pending, last_error=last_error,
                next_attempt_at=utcnow() + _backoff(attempts))
        counts["retry"] += 1


def deliver_all_due(limit: int = 100, *, stop: threading.Event | None = None) -> dict:
    """Deliver batches until nothing is due (or `stop` is set); returns the summed counts."""
    total = {"composed": 0, "claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    while True:
        counts = deliver_pending(limit, stop=stop)
        for key in total:
            total[key] += counts[key]
        if (counts["claimed"] < limit and counts["composed"] < limit) or _stopping(stop):
            return total


# How long the interpreter's exit waits for the background delivery to finish the message it is sending.
_EXIT_WAIT = 30


class BackgroundDelivery:
    """One daemon thread per app (per process) that delivers the outbox when woken after a commit.

    Once woken it waits MAIL_AFTER_COMMIT_DELAY seconds (default 0.5) before claiming, so that a rush of
    registrations is delivered in a few batches rather than one claim transaction per commit: the claims
    would otherwise compete with the registrations for the database (SQLite's write lock) and the CPU.

    At the interpreter's exit (a command such as `flask registrations import` that enqueued mail, a web
    worker that stops) it finishes the message being sent, releases its other claims and stops, waiting
    _EXIT_WAIT seconds at most: a command's exit never waits on the mail server for a whole outbox, and
    what is left is delivered by the outbox worker (or this thread in the next process) at once, with no
    lease to wait for.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            if self._thread is None or not self._thread.is_alive():
                if self._thread is None:
                    atexit.register(self.stop)
                self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = _EXIT_WAIT) -> None:
        """Finish the message being sent, release the other claims and end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._wake.wait(timeout=60):
                self._stop.wait(self.app.config.get("MAIL_AFTER_COMMIT_DELAY", 0.5))
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self.app.app_context():
                    deliver_all_due(stop=self._stop)
                    db.session.remove()
            except Exception:
                log.exception("Background mail delivery failed; the outbox worker will retry")


def init_app(app: Flask) -> None:
    """Wake the background delivery after each commit that enqueued mail, when MAIL_DELIVER_AFTER_COMMIT."""
    app.extensions["seminar.outbox"] = BackgroundDelivery(app)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    if not session.info.pop(_SESSION_FLAG, False):
        return
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    delivery = app.extensions.get("seminar.outbox")
    if delivery is not None and app.config.get("MAIL_DELIVER_AFTER_COMMIT"):
        delivery.wake()


@event.listens_for(OrmSession, "after_soft_rollback")
def _after_rollback(session: OrmSession, _previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_SESSION_FLAG, None)
