"""`reeldocs tokens`: API tokens, created, listed and revoked for a user by the operator."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from reeldocs.cli.local import prepare, run_as_service
from reeldocs.cli.output import Commands, moment, table

app = Commands(help="Manage API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Whose token it is.")],
    name: Annotated[str, typer.Option(help="A name to recognise it by.")] = "cli",
) -> None:
    """Create an API token and print it (and nothing else)."""
    from reeldocs.auth.service import create_token_for_email

    _, urls = prepare()
    typer.echo(run_as_service(urls, lambda session: create_token_for_email(session, email, name)))


@app.command("list")
def list_tokens(
    email: Annotated[str, typer.Option(help="Whose tokens to list.")],
) -> None:
    """List a user's API tokens, newest first (their secrets are never stored)."""
    from reeldocs.auth.service import list_tokens_for_email

    _, urls = prepare()
    tokens = run_as_service(urls, lambda session: list_tokens_for_email(session, email))
    if not tokens:
        typer.echo(f"{email} has no API tokens.")
        return
    rows = [
        [token.name, str(token.id), moment(token.created_at), moment(token.last_used_at)]
        for token in tokens
    ]
    typer.echo(table(["name", "id", "created", "last used"], rows))


@app.command("revoke")
def revoke(
    token_id: Annotated[
        uuid.UUID, typer.Argument(metavar="ID", help="The token's id, as `tokens list` shows it.")
    ],
) -> None:
    """Revoke an API token: requests sending it are refused from now on."""
    from reeldocs.auth.service import revoke_token_by_id

    _, urls = prepare()
    name, email = run_as_service(urls, lambda session: revoke_token_by_id(session, token_id))
    typer.echo(f"The API token {name!r} of {email} is revoked.")
