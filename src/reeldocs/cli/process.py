"""`reeldocs process`: videos on this machine in, a folder of docs out, in one command.

Local mode (process_local.py) works on the embedded or configured database; with
`--server URL --token TOKEN` (process_server.py) the command goes through a running
server's API and never opens a database. process_run.py takes the same steps for both.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from reeldocs.cli.local import database_errors, prepare
from reeldocs.cli.output import flag
from reeldocs.cli.process_display import open_display
from reeldocs.cli.process_run import ExportFormatChoice, Request, drive
from reeldocs.cli.remote import Server, Token, connect
from reeldocs.cli.server_api import ServerApi
from reeldocs.core.errors import Invalid, ReeldocsError
from reeldocs.core.languages import check_languages

USAGE_ERROR = 2


class ProviderChoice(StrEnum):
    auto = "auto"
    gemini = "gemini"
    offline = "offline"
    openai = "openai"


def _languages(text: str) -> list[str]:
    codes = [code.strip().lower() for code in text.split(",")]
    if not all(codes):
        raise typer.BadParameter(
            "Give language codes separated by commas, the docs' language first: en or en,es.",
            param_hint="'--languages'",
        )
    return codes


def process(
    videos: Annotated[
        list[Path],
        typer.Argument(metavar="VIDEO...", help="The video files to make docs of."),
    ],
    languages: Annotated[
        str,
        typer.Option(
            help="The docs' language first, then the languages to translate them into: en,es."
        ),
    ] = "en",
    out: Annotated[Path, typer.Option(help="Where the docs go: one folder per video.")] = Path(
        "reeldocs-out"
    ),
    fmt: Annotated[
        ExportFormatChoice, typer.Option("--format", help="Markdown, or MDX for Docusaurus.")
    ] = ExportFormatChoice.markdown,
    provider: Annotated[
        ProviderChoice | None,
        typer.Option(help="Which provider this command's worker uses (REELDOCS_PROVIDER)."),
    ] = None,
    as_json: Annotated[
        bool, flag("--json", "Print one JSON object per video as it ends, no live display.")
    ] = False,
    project: Annotated[
        str | None,
        typer.Option(
            metavar="ORG_SLUG/PROJECT_SLUG",
            help='The project to add the videos to, or its id (default: "Command line"; '
            "required with --server).",
        ),
    ] = None,
    no_video: Annotated[
        bool, flag("--no-video", "Leave the video file out; links go to the app instead.")
    ] = False,
    server: Server = None,
    token: Token = None,
) -> None:
    """Process video files and write their docs into a folder: on this machine, or on the
    Reeldocs server given with --server."""
    from reeldocs.projects.service import parse_reference

    codes = _languages(languages)
    if project is not None:
        try:
            parse_reference(project)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="'--project'") from None
    api = connect(server, token)
    if api is None:
        request = Request(videos, codes, out, fmt, not no_video, project)
        raise typer.Exit(_process_here(request, provider, as_json))
    if provider is not None:
        raise typer.BadParameter(
            "The server's own providers process what is sent to it: leave --provider out "
            "with --server.",
            param_hint="'--provider'",
        )
    if project is None:
        raise typer.BadParameter(
            "Name the server's project the videos go into: --project ORG_SLUG/PROJECT_SLUG "
            "or its id.",
            param_hint="'--project'",
        )
    request = Request(videos, codes, out, fmt, not no_video, project)
    raise typer.Exit(asyncio.run(_process_on_server(api, request, as_json)))


def _process_here(request: Request, provider: ProviderChoice | None, as_json: bool) -> int:
    from reeldocs.cli.process_local import LocalRun
    from reeldocs.jobs.service import validate_languages
    from reeldocs.providers.base import ProviderError
    from reeldocs.providers.registry import build_providers

    settings, urls = prepare()
    if provider is not None:
        settings = dataclasses.replace(settings, provider=provider.value)
    try:
        build_providers(settings)
    except ProviderError as error:
        if provider is None:
            typer.echo(f"Error: {error.message}", err=True)
            raise typer.Exit(1) from None
        raise typer.BadParameter(error.message, param_hint="'--provider'") from None
    try:
        codes = validate_languages(settings, request.languages)
    except Invalid as error:
        raise typer.BadParameter(error.detail, param_hint="'--languages'") from None
    request = dataclasses.replace(request, languages=codes)
    display = open_display(as_json=as_json, terminal=sys.stdout.isatty())
    try:
        with database_errors():
            return asyncio.run(drive(LocalRun(settings, urls, request, display)))
    except ReeldocsError as error:  # the project named cannot be used
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(1) from None


async def _process_on_server(api: ServerApi, request: Request, as_json: bool) -> int:
    """Languages are checked against what the server offers before any file is sent."""
    from reeldocs.cli.process_server import ServerRun

    async with api:
        try:
            primary, targets = await api.language_options()
            codes = check_languages(primary, targets, request.languages)
        except Invalid as error:
            typer.echo(f"Error: Invalid value for '--languages': {error.detail}", err=True)
            return USAGE_ERROR
        except ReeldocsError as error:
            typer.echo(f"Error: {error.detail}", err=True)
            return 1
        display = open_display(as_json=as_json, terminal=sys.stdout.isatty())
        run = ServerRun(api, dataclasses.replace(request, languages=codes), display)
        try:
            return await drive(run)
        except ReeldocsError as error:  # the project named cannot be used
            typer.echo(f"Error: {error.detail}", err=True)
            return 1
