"""The `reeldocs` command."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, TypeVar

import psycopg
import typer
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs import startup
from reeldocs.core.db import DatabaseUrls, SchemaChange, create_engine, database_urls, migrate
from reeldocs.core.errors import ReeldocsError
from reeldocs.core.logs import setup_logging
from reeldocs.core.private_files import close_to_others, database_user_traverses, use_private_umask
from reeldocs.core.settings import Settings, get_settings

app = typer.Typer(
    help="Reeldocs: turn product and tutorial videos into documentation.", no_args_is_help=True
)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
orgs_app = typer.Typer(help="Manage teams (organisations).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(orgs_app, name="orgs")

T = TypeVar("T")


@app.callback()
def _every_command() -> None:
    # Before anything is created: the data directory is for Reeldocs alone.
    use_private_umask()


def _exit_cleanly_on_sigterm() -> None:
    """Once uvicorn has shut down it raises the signal that stopped it again. SIGTERM's
    default action would end the process there, skipping the exit hooks that stop the
    embedded database; exiting as Ctrl-C does (an exception) runs them."""

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that does not answer is one sentence on stderr, not a traceback."""
    try:
        yield
    except (OperationalError, psycopg.OperationalError) as error:
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).strip().splitlines() or ["no reason given"])[0]
        typer.echo(
            f"Error: The database is not answering ({reason}). Check that PostgreSQL is "
            "running and that REELDOCS_DATABASE_URL points at it.",
            err=True,
        )
        raise typer.Exit(1) from None


def _prepare() -> tuple[Settings, DatabaseUrls]:
    """Settings, the database (started if embedded), and its schema brought up to date."""
    settings, urls, _ = _prepare_and_migrate()
    return settings, urls


def _prepare_and_migrate() -> tuple[Settings, DatabaseUrls, SchemaChange]:
    try:
        settings = get_settings()
        close_to_others(
            settings.data_dir, traverse=database_user_traverses(settings.embedded_database)
        )
        urls = database_urls(settings)
    except ValueError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    with _database_errors():
        schema = migrate(urls)
    return settings, urls, schema


def _as_service(urls: DatabaseUrls, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(urls, pool_size=1)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        with _database_errors():
            return asyncio.run(run())
    except ReeldocsError as error:
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(1) from None


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date."""
    _prepare()
    typer.echo("The database schema is up to date.")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (REELDOCS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (REELDOCS_PORT).")] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run a worker in this process.")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Jobs the in-process worker runs at once.")] = 1,
    web_processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Web processes answering requests (default: one per core). With more than "
            "one, a supervisor runs them, and the worker in a process of its own.",
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log one line per request.")
    ] = False,
) -> None:
    """Run the web app (and a worker, unless --no-worker)."""
    import uvicorn

    from reeldocs.app import create_app
    from reeldocs.serving import WebOptions, default_web_processes, serve_in_processes
    from reeldocs.videos.leftovers import ABANDONED_AFTER_SECONDS, remove_scratch_copies

    setup_logging()
    settings, urls, schema = _prepare_and_migrate()
    # Uploads interrupted by a killed web process may have left scratch copies here.
    remove_scratch_copies(settings.data_dir, time.time() - ABANDONED_AFTER_SECONDS)
    options = WebOptions(host or settings.host, port or settings.port, access_log)
    processes = web_processes or default_web_processes()

    def announce(what_runs: str) -> None:
        address = startup.browser_url(options.host, options.port)
        startup.report(settings, urls, schema, address=address, processes=what_runs)

    if processes == 1:
        application = create_app(
            settings, urls=urls, run_worker=not no_worker, worker_concurrency=concurrency
        )
        config = uvicorn.Config(application, **options.uvicorn_kwargs())
        listener = config.bind_socket()  # exits with a message if it cannot
        announce(
            "one web process"
            + ("" if no_worker else f" running a job worker ({concurrency} at once)")
        )
        _exit_cleanly_on_sigterm()
        uvicorn.Server(config).run(sockets=[listener])
        return
    try:
        serve_in_processes(
            settings,
            options,
            processes=processes,
            run_worker=not no_worker,
            worker_concurrency=concurrency,
            announce=announce,
        )
    except RuntimeError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs this worker runs at once.")] = 1,
) -> None:
    """Run a worker that processes videos."""
    from reeldocs.jobs.worker import run_worker_forever
    from reeldocs.providers.base import ProviderError

    setup_logging()
    settings, urls, schema = _prepare_and_migrate()
    try:
        startup.report(
            settings, urls, schema, processes=f"a job worker running {concurrency} at once"
        )
        asyncio.run(
            run_worker_forever(
                settings, urls, concurrency=concurrency, install_signal_handlers=True
            )
        )
    except ProviderError as error:  # the providers are misconfigured (a missing model, say)
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(1) from None


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


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The new user's e-mail address.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input instead of a prompt."
        ),
    ] = False,
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
    _, urls = _prepare()

    async def work(session: AsyncSession) -> str:
        user, _ = await create_user(session, email, secret, name)
        return str(user.id)

    typer.echo(_as_service(urls, work))


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option(help="Whose password to set.")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input instead of a prompt."
        ),
    ] = False,
) -> None:
    """Set a user's password (an operator's reset); their sessions end."""
    from reeldocs.auth.service import set_password_for_email

    secret = _read_password(password_stdin, confirm=True)
    _, urls = _prepare()
    _as_service(urls, lambda session: set_password_for_email(session, email, secret))
    typer.echo(f"The password of {email} is set; their sessions have ended.")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Option(help="Whose token it is.")],
    name: Annotated[str, typer.Option(help="A name to recognise it by.")] = "cli",
) -> None:
    """Create an API token and print it (and nothing else)."""
    from reeldocs.auth.service import create_token_for_email

    _, urls = _prepare()
    typer.echo(_as_service(urls, lambda session: create_token_for_email(session, email, name)))


@orgs_app.command("add-member")
def orgs_add_member(
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
    _, urls = _prepare()
    _as_service(urls, lambda session: add_member_by_slug(session, org, email, role))
    typer.echo(f"{email} is now {role} of {org}.")


if __name__ == "__main__":
    app()
