"""`flask bootstrap`: what `make run` does before serving (seed an empty database, create the first admin)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from seminar.accounts.services import ensure_first_admin
from seminar.events.models import Event
from seminar.events.seed import seed_anniversary_seminar
from seminar.extensions import db


@click.command("bootstrap")
@with_appcontext
def bootstrap_command() -> None:
    """Seed the anniversary seminar when the database holds no event yet; create the first admin account."""
    if not db.session.scalar(select(func.count()).select_from(Event)):
        event, _ = seed_anniversary_seminar()
        click.echo(f"Seeded {event.slug}.")
    created = ensure_first_admin(current_app.config.get("FIRST_ADMIN_EMAIL") or "admin@localhost")
    if created is not None:
        user, password = created
        # Shown this once only: the database keeps the hash.
        click.echo(f"First admin account: {user.email}  password: {password}  (change it at /account/password)")
