"""`flask invitations import SLUG FILE`, `flask invitations send SLUG [--remind]`, `flask invitations status SLUG`
(output formats: ../shared/CONTRACTS.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from seminar.events.services import get_event
from seminar.invitations import services

invitations_cli = AppGroup("invitations", help="An event's guest list: import, send invitations, follow answers.")


def _event_id(slug: str) -> int:
    event = get_event(slug)
    if event is None:
        raise click.ClickException(f"No event with the slug {slug!r}.")
    return event.id


@invitations_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(slug, file: Path) -> None:
    """Add the invitees of a CSV or XLSX file (first_name,last_name,email,organisation,category,language);
    prints added, duplicate and rejected rows."""
    report = services.import_guest_list(_event_id(slug), file.read_bytes())
    if report.error:
        raise click.ClickException(report.error)
    counts = report.summary()
    click.echo(f"added: {counts['added']}, duplicates: {counts['duplicates']}, rejected: {counts['rejected']}")
    for line, email, why in report.duplicates:
        click.echo(f"  line {line}: duplicate {email} ({why})")
    for line, reason in report.rejected:
        click.echo(f"  line {line}: rejected: {reason}")


@invitations_cli.command("send")
@click.argument("slug")
@click.option("--remind", is_flag=True, help="Remind the invitees who have not answered instead.")
def send_command(slug, remind) -> None:
    """Send the invitations never sent (or, with --remind, the reminders due); prints how many."""
    send = services.send_reminders if remind else services.send_invitations
    try:
        sent = send(_event_id(slug))
    except services.InvitationError as refused:
        raise click.ClickException(str(refused.message)) from None
    click.echo(f"sent: {sent}")


@invitations_cli.command("status")
@click.argument("slug")
def status_command(slug) -> None:
    """How many invitations were sent, and the answers."""
    counts = services.guest_list_status(_event_id(slug))
    click.echo(f"invited: {counts['invited']}, registered: {counts['registered']}, declined: {counts['declined']}, "
               f"pending: {counts['pending']}")
