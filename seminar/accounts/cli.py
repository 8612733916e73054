"""`flask create-user EMAIL --role admin|organiser|checkin`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from seminar.accounts import services
from seminar.accounts.models import Role


def _read_password() -> str:
    """Prompted twice on a terminal; on a pipe, the first two lines of stdin."""
    stdin = sys.stdin
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    first, second = stdin.readline().rstrip("\r\n"), stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("The two passwords differ.")
    return first


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@with_appcontext
def create_user_command(email: str, role: str) -> None:
    """Create a staff account; the password is read twice (from the terminal or a pipe)."""
    password = _read_password()
    try:
        user = services.create_user(email, password, Role(role))
    except services.AccountError as error:
        for problem in error.problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    click.echo(f"Created {user.role.value} account {user.email}.")
