"""`flask bootstrap`: what `make run` does before serving (seed an empty database)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from seminar.events.models import Event
from seminar.events.seed import seed_anniversary_seminar
from seminar.extensions import db


@click.command("bootstrap")
@with_appcontext
def bootstrap_command() -> None:
    """Seed the anniversary seminar when the database holds no event yet."""
    if not db.session.scalar(select(func.count()).select_from(Event)):
        event, _ = seed_anniversary_seminar()
        click.echo(f"Seeded {event.slug}.")
