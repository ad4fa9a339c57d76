"""`reeldocs orgs`: the teams, and who is in them."""

from __future__ import annotations

from typing import Annotated

import typer

from reeldocs.cli.local import prepare, run_as_service
from reeldocs.cli.output import Commands, table

app = Commands(help="Manage teams (organisations).", no_args_is_help=True)


@app.command("list")
def list_orgs() -> None:
    """List every team with its slug (what other commands take) and its number of members."""
    from reeldocs.orgs.service import list_all_with_member_counts

    _, urls = prepare()
    teams = run_as_service(urls, list_all_with_member_counts)
    if not teams:
        typer.echo("There are no teams yet: `reeldocs users create` makes one per user.")
        return
    rows = [[org.slug, org.name, str(members)] for org, members in teams]
    typer.echo(table(["slug", "name", "members"], rows))


@app.command("add-member")
def add_member(
    org: Annotated[str, typer.Option(help="The team's slug.")],
    email: Annotated[str, typer.Option(help="The member's e-mail address.")],
    role: Annotated[str, typer.Option(help="owner, editor or viewer.")],
) -> None:
    """Add a user to a team, or change their role in it."""
    from reeldocs.orgs.models import ROLES
    from reeldocs.orgs.service import add_member_by_slug

    if role not in ROLES:
        typer.echo("Error: The role must be owner, editor or viewer.", err=True)
        raise typer.Exit(2)
    _, urls = prepare()
    run_as_service(urls, lambda session: add_member_by_slug(session, org, email, role))
    typer.echo(f"{email} is now {role} of {org}.")
