"""`flask seed`, `flask export-event`, `flask import-event`."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import with_appcontext

from seminar.events import transfer
from seminar.events.seed import seed_anniversary_seminar


@click.command("seed")
@with_appcontext
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Seed the seminar on this day (YYYY-MM-DD), or move it there, for rehearsals "
                   "(e.g. 2023-11-28, the historical one). Default: the next 28 November still ahead.")
def seed_command(on) -> None:
    """Load the cancéropôles' anniversary seminar (idempotent), by default on the next 28 November."""
    day: date | None = on.date() if on else None
    event, changed = seed_anniversary_seminar(day)
    state = "loaded" if changed else "unchanged"
    click.echo(f"{event.slug}: {state} ({event.local(event.starts_at):%Y-%m-%d})")


@click.command("export-event")
@with_appcontext
@click.argument("slug")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The JSON file to write.")
def export_event_command(slug: str, output: str) -> None:
    """Write an event with its programme, speakers and registrations to a JSON file."""
    try:
        document = transfer.export_event(slug)
    except transfer.TransferError as error:
        raise click.ClickException(str(error)) from error
    with open(output, "w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False, indent=1)
        file.write("\n")
    click.echo(f"{slug}: exported to {output} ({_summary(document['tables'])})")


@click.command("import-event")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite an existing event with the same slug.")
def import_event_command(file: str, replace: bool) -> None:
    """Create an event from a JSON file written by export-event (on any database backend)."""
    try:
        with open(file, encoding="utf-8") as handle:
            document = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{file} is not a JSON file: {error}") from error
    try:
        result = transfer.import_event(document, replace=replace)
    except transfer.TransferError as error:
        raise click.ClickException(str(error)) from error
    ids = "ids kept" if result.ids_kept else "new ids"
    click.echo(f"{result.slug}: imported ({_summary(document['tables'])}; {ids})")
    for email in sorted(result.unknown_staff):
        click.echo(f"warning: no staff account {email}: its check-ins are kept without the name", err=True)


def _summary(tables: dict) -> str:
    names = ("session", "speaker", "registration", "session_seat")
    return ", ".join(f"{len(tables.get(name, []))} {name.replace('_', ' ')}s" for name in names)
