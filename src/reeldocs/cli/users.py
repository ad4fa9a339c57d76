"""`reeldocs users`: accounts an operator creates or resets."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.cli.local import prepare, run_as_service
from reeldocs.cli.output import Commands, flag

app = Commands(help="Manage user accounts.", no_args_is_help=True)

PasswordStdin = Annotated[
    bool, flag("--password-stdin", "Read the password from standard input instead of a prompt.")
]


def _read_password(password_stdin: bool, *, confirm: bool) -> str:
    """From standard input (one line) or a prompt that does not echo: never from the
    command line, where it would stay in the shell's history and in `ps`."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    if not password:
        typer.echo("Error: The password is empty.", err=True)
        raise typer.Exit(2)
    return password


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="The new user's e-mail address.")],
    password_stdin: PasswordStdin = False,
    password: Annotated[
        str | None,
        typer.Option(
            help="The password itself (avoid it: it stays in the shell's history).", hidden=True
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a user with a personal team; the password is asked for (or read from stdin)."""
    from reeldocs.auth.service import create_user

    secret = password if password is not None else _read_password(password_stdin, confirm=True)
    _, urls = prepare()

    async def work(session: AsyncSession) -> str:
        user, _ = await create_user(session, email, secret, name)
        return str(user.id)

    typer.echo(run_as_service(urls, work))


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Option(help="Whose password to set.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password (an operator's reset); their sessions end."""
    from reeldocs.auth.service import set_password_for_email

    secret = _read_password(password_stdin, confirm=True)
    _, urls = prepare()
    run_as_service(urls, lambda session: set_password_for_email(session, email, secret))
    typer.echo(f"The password of {email} is set; their sessions have ended.")
