"""`flask outbox deliver [--watch]`: send pending mail (the worker for the outbox)."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask.cli import with_appcontext

from seminar.extensions import db
from seminar.mail.outbox import deliver_all_due

log = logging.getLogger(__name__)


@click.group("outbox")
def outbox_group() -> None:
    """The e-mail outbox."""


@outbox_group.command("deliver")
@click.option("--watch", is_flag=True, help="Keep running, delivering new mail as it arrives.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between two looks at the outbox (--watch).")
@click.option("--limit", default=100, show_default=True,
              help="Messages per round (claimed MAIL_CLAIM_BATCH at a time).")
@with_appcontext
def deliver_command(watch: bool, interval: float, limit: int) -> None:
    """Send every pending message that is due; failures are retried later with back-off. SIGTERM or Ctrl-C
    finishes the message being sent, puts the others back and exits."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if watch:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    while not stop.is_set():
        try:
            counts = deliver_all_due(limit, stop=stop)
        except Exception:
            if not watch:
                raise
            # The database went away (a restart, a dropped connection): the next look reconnects.
            log.exception("Outbox delivery failed; trying again in %s s", interval)
            db.session.rollback()
        else:
            if counts["claimed"] or not watch:
                click.echo(f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}")
        if not watch:
            return
        db.session.remove()
        stop.wait(interval)
