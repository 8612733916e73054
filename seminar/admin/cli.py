"""`flask registrations export SLUG -o FILE.csv|FILE.xlsx` and `flask registrations import SLUG FILE.csv`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from seminar.admin import imports, spreadsheets
from seminar.admin.registrants import RegistrantFilters
from seminar.events.services import get_event
from seminar.registration.models import RegistrationStatus

registrations_cli = AppGroup("registrations", help="Export and import an event's registrants.")


def _event(slug: str):
    event = get_event(slug)
    if event is None:
        raise click.ClickException(f"No event with the slug {slug!r}.")
    return event


@registrations_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.csv or FILE.xlsx (the format follows the extension).")
@click.option("--semicolon", is_flag=True, help="CSV separated by semicolons (French Excel).")
@click.option("--status", type=click.Choice([s.value for s in RegistrationStatus]), default=None)
@click.option("--session", "session_id", type=int, default=None, help="Only this round table's registrants.")
@click.option("--by-round-table", is_flag=True, help="XLSX with one sheet of confirmed attendees per round table.")
def export_command(slug, output: Path, semicolon, status, session_id, by_round_table) -> None:
    """Write the event's registrants (formula-safe) to a CSV or XLSX file."""
    event = _event(slug)
    fmt = "xlsx" if output.suffix.lower() == ".xlsx" else "csv"
    filters = RegistrantFilters(status=RegistrationStatus(status) if status else None, session_id=session_id,
                                sort="name", descending=False)
    export = spreadsheets.export_registrants(event, filters, fmt, delimiter=";" if semicolon else ",",
                                             by_round_table=by_round_table)
    output.write_bytes(export.content)
    click.echo(f"{export.rows} registrants written to {output}.")


@registrations_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-email", is_flag=True, help="Do not send confirmation e-mails.")
@click.option("--locale", default="fr", show_default=True, help="Language of the e-mails.")
def import_command(slug, file: Path, no_email, locale) -> None:
    """Register the people listed in a CSV file (first_name,last_name,email,organisation,job_title,category
    and optional sessions); prints created, duplicate and rejected rows."""
    event = _event(slug)
    report = imports.read_import(event, file.read_bytes())
    if report.error:
        raise click.ClickException(report.error)
    # The bar goes to standard error, so that the counts on standard output stay one line a script can read.
    with click.progressbar(length=len(report.ready), label="Importing", file=sys.stderr) as bar:
        imports.register_rows(event, report, send_email=not no_email, locale=locale,
                              progress=lambda done, _total: bar.update(done - bar.pos))
    counts = report.summary()
    click.echo(f"created: {counts['created']}, duplicates: {counts['duplicates']}, rejected: {counts['rejected']}")
    for line, email, status in report.created:
        click.echo(f"  line {line}: created {email} ({status.value})")
    for line, email in report.duplicates:
        click.echo(f"  line {line}: duplicate {email}")
    for line, reason in report.rejected:
        click.echo(f"  line {line}: rejected: {reason}")
