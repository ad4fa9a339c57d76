"""Local mode: the commands' way to the embedded (or configured) database, as the operator.

The operator works as the service role, the database user Reeldocs connects as, which
the row-level policies do not limit: `run_as_service` hands each command a session in
one transaction, and turns an expected failure into one sentence on stderr.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
import typer
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import DatabaseUrls, SchemaChange, create_engine, database_urls, migrate
from reeldocs.core.errors import ReeldocsError
from reeldocs.core.private_files import close_to_others, database_user_traverses
from reeldocs.core.settings import Settings, get_settings

T = TypeVar("T")


@contextmanager
def database_errors() -> Iterator[None]:
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


def prepare() -> tuple[Settings, DatabaseUrls]:
    """Settings, the database (started if embedded), and its schema brought up to date."""
    settings, urls, _ = prepare_and_migrate()
    return settings, urls


def prepare_and_migrate() -> tuple[Settings, DatabaseUrls, SchemaChange]:
    try:
        settings = get_settings()
        close_to_others(
            settings.data_dir, traverse=database_user_traverses(settings.embedded_database)
        )
        urls = database_urls(settings)
    except ValueError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    with database_errors():
        schema = migrate(urls)
    return settings, urls, schema


def run_as_service(urls: DatabaseUrls, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction as the service role; a ReeldocsError is its sentence
    on stderr and exit status 1."""

    async def run() -> T:
        engine = create_engine(urls, pool_size=1)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        with database_errors():
            return asyncio.run(run())
    except ReeldocsError as error:
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(1) from None
