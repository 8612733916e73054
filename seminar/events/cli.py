"""`flask seed`."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from seminar.events.seed import seed_anniversary_seminar


@click.command("seed")
@with_appcontext
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Move the seminar to this day (YYYY-MM-DD), for rehearsals.")
def seed_command(on) -> None:
    """Load the cancéropôles' anniversary seminar (idempotent)."""
    day: date | None = on.date() if on else None
    event, changed = seed_anniversary_seminar(day)
    state = "loaded" if changed else "unchanged"
    click.echo(f"{event.slug}: {state} ({event.local(event.starts_at):%Y-%m-%d})")
