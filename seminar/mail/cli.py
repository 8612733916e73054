"""`flask outbox deliver [--watch]`: send pending mail (the worker for the outbox)."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from seminar.extensions import db
from seminar.mail.outbox import deliver_all_due


@click.group("outbox")
def outbox_group() -> None:
    """The e-mail outbox."""


@outbox_group.command("deliver")
@click.option("--watch", is_flag=True, help="Keep running, delivering new mail as it arrives.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between two looks at the outbox (--watch).")
@click.option("--limit", default=100, show_default=True, help="Messages per batch.")
@with_appcontext
def deliver_command(watch: bool, interval: float, limit: int) -> None:
    """Send every pending message that is due; failures are retried later with back-off."""
    while True:
        counts = deliver_all_due(limit)
        if counts["claimed"] or not watch:
            click.echo(f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}")
        if not watch:
            return
        db.session.remove()
        time.sleep(interval)
