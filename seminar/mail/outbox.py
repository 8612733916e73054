"""The outbox: messages are rows written in the transaction of the change that causes them, then delivered.

`enqueue` adds a message to the current database session (the caller commits it with its change).
`enqueue_to_compose` adds one whose bodies are not written yet, only what to write (a registrant e-mail):
the change that causes it stays a short transaction, and `compose_pending` writes it before delivery, with
the composers that areas register (`add_composer`).

After a commit that enqueued mail, the web process wakes a background thread that composes and delivers it
(MAIL_DELIVER_AFTER_COMMIT), so that no request waits on SMTP; in production a separate `flask outbox
deliver --watch` process does it instead. `deliver_pending` (also run by
`flask outbox deliver [--watch]`) claims due messages, sends them and records the outcome:

- claiming marks rows `sending` in their own committed transaction (PostgreSQL: FOR UPDATE SKIP LOCKED,
  so concurrent workers take different rows; SQLite: BEGIN IMMEDIATE), hence a message is sent by one
  worker only;
- each outcome is committed as soon as it is known: a sent message is never sent again;
- a failure puts the message back with exponential back-off (1 min, 2, 4 … up to 1 h), and after
  MAIL_MAX_ATTEMPTS attempts marks it `failed`;
- a worker that died while sending leaves rows `sending`; after MAIL_CLAIM_TIMEOUT they are retried with
  the same Message-ID, so that a receiving system can recognise a rare duplicate.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import Flask, current_app
from sqlalchemy import delete, event, or_, select, update
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
) -> OutboxMessage:
    """Add a message to the current session (no commit). A pending message with the same
    `coalesce_key` is replaced rather than joined by a second one (e.g. quick successive calendar updates).
    `first_for_key`: the caller knows no message was ever queued with this key (e.g. the round-table seat it
    is about was created in this transaction), which spares the lookup."""
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
    write(message, to_addr, subject, text_body, html_body, ics=ics, ics_method=ics_method, coalesce_key=coalesce_key)
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
        "ics_method": None, "coalesce_key": None, "status": OutboxStatus.pending.name, "attempts": 0,
        "next_attempt_at": now, "claimed_at": None, "sent_at": None, "last_error": "",
        "message_id": make_msgid(domain=_mail_domain()), "event_id": event_id, "registration_id": registration_id,
        "compose_kind": kind, "compose_args": json.dumps(about),
    }


def write(message: OutboxMessage, to_addr: str, subject: str, text_body: str, html_body: str = "", *,
          ics: str | None = None, ics_method: str | None = None, coalesce_key: str | None = None) -> None:
    """Fill in `message` (new, or one recorded with `enqueue_to_compose`): it is then due at once."""
    message.to_addr = to_addr
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


def compose_pending(limit: int = 100) -> int:
    """Write up to `limit` recorded messages, oldest first, each in its own short write transaction (on SQLite
    a long one would hold the database's write lock away from registrations). A message whose composition
    fails is marked failed with the error; it is never sent half written. Returns how many were handled."""
    composers = current_app.extensions.get(_COMPOSERS_KEY, {})
    waiting = select(OutboxMessage.id).where(
        OutboxMessage.compose_kind.is_not(None), OutboxMessage.status == OutboxStatus.pending
    ).order_by(OutboxMessage.id).limit(limit)
    ids = list(db.session.scalars(waiting))
    db.session.rollback()
    handled = 0
    for message_id in ids:
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


def _claim(limit: int, now: datetime) -> list[int]:
    """Mark up to `limit` due messages `sending` and commit: from then on they belong to this worker."""
    stale = now - timedelta(seconds=current_app.config.get("MAIL_CLAIM_TIMEOUT", 900))
    due = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == OutboxStatus.pending) & (OutboxMessage.next_attempt_at <= now)
                & OutboxMessage.compose_kind.is_(None),
                (OutboxMessage.status == OutboxStatus.sending) & (OutboxMessage.claimed_at < stale),
            )
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with write_transaction():
        ids = list(db.session.scalars(due))
        if ids:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status=OutboxStatus.sending, claimed_at=now, attempts=OutboxMessage.attempts + 1)
            )
    return ids


def deliver_pending(limit: int = 100, *, now: datetime | None = None) -> dict:
    """Write the recorded messages (`compose_pending`), then send the due ones; returns counts
    {"composed", "claimed", "sent", "retry", "failed"}.

    `now` lets a caller (a test, a catch-up run) treat messages as due earlier than the back-off says.
    The claimed messages are read and built first; no transaction stays open while sending, and each
    outcome is written in its own write transaction (on SQLite, a transaction that read first could not
    take the write lock once another process has written: "database is locked", the message sent but
    left `sending`, hence sent again after MAIL_CLAIM_TIMEOUT).
    """
    composed = compose_pending(limit)
    now = now or utcnow()
    ids = _claim(limit, now)
    counts = {"composed": composed, "claimed": len(ids), "sent": 0, "retry": 0, "failed": 0}
    if not ids:
        return counts
    max_attempts = current_app.config.get("MAIL_MAX_ATTEMPTS", 10)
    sender = current_app.config["MAIL_FROM"]
    claimed = select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    outgoing = [_prepare(message, sender) for message in db.session.scalars(claimed)]
    db.session.rollback()  # end the read: nothing is held while the mail server is talked to
    waiting = {message_id for message_id, _attempts, _mime in outgoing}
    try:
        with transport_for(current_app) as transport:
            for message_id, attempts, mime in outgoing:
                try:
                    if isinstance(mime, Exception):
                        raise mime
                    transport.send(mime)
                except Exception as error:  # noqa: BLE001  (any failure is recorded and retried)
                    _record_failure(message_id, attempts, error, max_attempts, counts)
                else:
                    _record(message_id, status=OutboxStatus.sent, sent_at=utcnow(), last_error="")
                    counts["sent"] += 1
                waiting.discard(message_id)
    except Exception as error:  # noqa: BLE001  (the server is unreachable: every message still claimed waits)
        log.warning("Mail transport unavailable: %s", error)
        db.session.rollback()
        for message_id, attempts, _mime in outgoing:
            if message_id in waiting:
                _record_failure(message_id, attempts, error, max_attempts, counts)
    return counts


def _prepare(message: OutboxMessage, sender: str) -> tuple[int, int, EmailMessage | Exception]:
    """(id, attempts, the MIME message or the error that building it raised)."""
    try:
        return message.id, message.attempts, build_message(message, sender)
    except Exception as error:  # noqa: BLE001  (recorded as this message's failure)
        return message.id, message.attempts, error


def _record(message_id: int, **values) -> None:
    """Write one message's outcome and commit it at once: a sent message is never sent again."""
    with write_transaction():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


def _record_failure(message_id: int, attempts: int, error: Exception, max_attempts: int, counts: dict) -> None:
    last_error = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= max_attempts:
        _record(message_id, status=OutboxStatus.failed, last_error=last_error)
        counts["failed"] += 1
        log.error("Giving up on message %s: %s", message_id, last_error)
    else:
        _record(message_id, status=OutboxStatus.pending, last_error=last_error,
                next_attempt_at=utcnow() + _backoff(attempts))
        counts["retry"] += 1


def deliver_all_due(limit: int = 100) -> dict:
    """Deliver batches until nothing is due; returns the summed counts."""
    total = {"composed": 0, "claimed": 0, "sent": 0, "retry": 0, "failed": 0}
    while True:
        counts = deliver_pending(limit)
        for key in total:
            total[key] += counts[key]
        if counts["claimed"] < limit and counts["composed"] < limit:
            return total


class BackgroundDelivery:
    """One daemon thread per app (per process) that delivers the outbox when woken after a commit.

    Once woken it waits MAIL_AFTER_COMMIT_DELAY seconds (default 0.5) before claiming, so that a rush of
    registrations is delivered in a few batches rather than one claim transaction per commit: the claims
    would otherwise compete with the registrations for the database (SQLite's write lock) and the CPU.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            if self._wake.wait(timeout=60):
                time.sleep(self.app.config.get("MAIL_AFTER_COMMIT_DELAY", 0.5))
            self._wake.clear()
            try:
                with self.app.app_context():
                    deliver_all_due()
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
