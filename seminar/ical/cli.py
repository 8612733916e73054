"""`flask ics SLUG -o FILE.ics`: write the programme feed to a file."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from seminar.events.services import get_event


@click.command("ics")
@with_appcontext
@click.argument("slug")
@click.option("-o", "--output", type=click.File("wb"), default="-", show_default=True,
              help="Where to write the calendar (- for standard output).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None, help="Language of the descriptions.")
def ics_command(slug: str, output, lang: str | None) -> None:
    """Write the programme of event SLUG as an iCalendar file."""
    from seminar.ical.calendar import Site, programme_calendar  # loads icalendar: not when the app starts

    event = get_event(slug)
    if event is None:
        raise click.ClickException(f"No event with the slug {slug!r}.")
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = programme_calendar(event, Site.from_config(current_app.config))
    output.write(body)
    if output.name != "<stdout>":
        click.echo(f"{output.name}: {len(event.sessions)} sessions", err=True)
