"""`flask badges SLUG -o badges.pdf`: the badges of an event, with a progress bar on the terminal."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from seminar.badges.layouts import LAYOUTS
from seminar.badges.services import STATUSES, BadgeRequestError, export_badges
from seminar.events.services import get_event


@click.command("badges")
@click.argument("slug")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Where to write the PDF.")
@click.option("--layout", type=click.Choice(list(LAYOUTS)), default="a4-4", show_default=True)
@click.option("--status", type=click.Choice(["all", *STATUSES]), default="confirmed", show_default=True,
              help="Registrations with this status.")
@click.option("--session", "session_id", type=int, default=None,
              help="Only registrants with a confirmed seat in this session (id).")
@with_appcontext
def badges_command(slug: str, output: Path, layout: str, status: str, session_id: int | None) -> None:
    """Write the badges of event SLUG to a PDF."""
    event = get_event(slug)
    if event is None:
        raise click.ClickException(f"no event with slug {slug!r}")
    with click.progressbar(length=1, label="Badges", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            pdf, count = export_badges(event.id, status=status, session_id=session_id, layout=layout,
                                       progress=progress)
        except BadgeRequestError as error:
            raise click.ClickException(str(error)) from None
    output.write_bytes(pdf)
    click.echo(f"{count} badge(s), layout {layout}: {output}")
