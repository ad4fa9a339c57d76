"""`--server URL --token TOKEN`: the commands that can work through a running server.

With both given (or REELDOCS_SERVER and REELDOCS_TOKEN set), `process` and `jobs` ask
the server's API as the token's user and never open a database on this machine;
without them, they work locally as the operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from reeldocs.cli.server_api import ServerApi, ServerRefused, server_address

T = TypeVar("T")

Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="REELDOCS_SERVER",
        metavar="URL",
        help="Work through the Reeldocs server at this address, as --token's user, "
        "instead of on this machine's database.",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="REELDOCS_TOKEN",
        metavar="TOKEN",
        show_envvar=True,
        help="An API token of the server's (its settings page makes one). The variable "
        "keeps it out of your shell's history.",
    ),
]


def connect(server: str | None, token: str | None) -> ServerApi | None:
    """The server to work through, or None for local mode; a usage error (exit 2) when
    one of the two is missing or the address is no address."""
    if server is None:
        if token is not None:
            raise typer.BadParameter(
                "A token is for a server: give --server URL too, or leave the token out to "
                "work on this machine's database.",
                param_hint="'--token'",
            )
        return None
    if not token:
        raise typer.BadParameter(
            "Working through a server needs one of its API tokens: give --token TOKEN or "
            "set REELDOCS_TOKEN (the server's settings page makes one).",
            param_hint="'--token'",
        )
    try:
        address = server_address(server)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--server'") from None
    return ServerApi(address, token)


def ask(api: ServerApi, work: Callable[[ServerApi], Awaitable[T]]) -> T:
    """Run `work` against the server; its refusal is one sentence on stderr, exit 1."""

    async def run() -> T:
        async with api:
            return await work(api)

    try:
        return asyncio.run(run())
    except ServerRefused as error:
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(1) from None
