"""`flask worker`: runs background jobs (badge exports) and delivers the e-mail outbox; `flask housekeeping`."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from seminar.jobs.services import housekeeping, work


@click.command("worker")
@click.option("--once", is_flag=True, help="Stop when there is nothing left to do.")
@click.option("--poll", "poll_interval", type=float, default=1.0, show_default=True,
              help="Seconds between looks at an empty queue.")
@with_appcontext
def worker_command(once: bool, poll_interval: float) -> None:
    """Run background jobs and deliver the e-mail outbox until stopped (Ctrl-C, SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("worker: running jobs and delivering mail" + (" until idle" if once else " (Ctrl-C stops)"))
    work(app, stop=stop, once=once, poll_interval=poll_interval)


@click.command("housekeeping")
@with_appcontext
def housekeeping_command() -> None:
    """Clear away what is no longer kept (old badge exports, unused badge parts); `flask worker` does it hourly."""
    for name, removed in housekeeping().items():
        click.echo(f"{name}: {removed} removed")
