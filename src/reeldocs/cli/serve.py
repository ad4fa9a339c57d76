"""Running Reeldocs: the web app, workers, and the database schema they need."""

from __future__ import annotations

import asyncio
import signal
import time
from types import FrameType
from typing import Annotated

import typer

from reeldocs import startup
from reeldocs.cli.local import prepare, prepare_and_migrate
from reeldocs.cli.output import flag
from reeldocs.core.logs import setup_logging


def exit_cleanly_on_sigterm() -> None:
    """Once uvicorn has shut down it raises the signal that stopped it again. SIGTERM's
    default action would end the process there, skipping the exit hooks that stop the
    embedded database; exiting as Ctrl-C does (an exception) runs them."""

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)


def migrate_command() -> None:
    """Bring the database schema up to date."""
    prepare()
    typer.echo("The database schema is up to date.")


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (REELDOCS_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (REELDOCS_PORT).")] = None,
    no_worker: Annotated[bool, flag("--no-worker", "Do not run a worker in this process.")] = False,
    concurrency: Annotated[int, typer.Option(help="Jobs the in-process worker runs at once.")] = 1,
    web_processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Web processes answering requests (default: one per core). With more than "
            "one, a supervisor runs them, and the worker in a process of its own.",
        ),
    ] = None,
    access_log: Annotated[bool, flag("--access-log", "Log one line per request.")] = False,
) -> None:
    """Run the web app (and a worker, unless --no-worker)."""
    import uvicorn

    from reeldocs.app import create_app
    from reeldocs.serving import WebOptions, default_web_processes, serve_in_processes
    from reeldocs.videos.leftovers import ABANDONED_AFTER_SECONDS, remove_scratch_copies

    setup_logging()
    settings, urls, schema = prepare_and_migrate()
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
        exit_cleanly_on_sigterm()
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


def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs this worker runs at once.")] = 1,
) -> None:
    """Run a worker that processes videos."""
    from reeldocs.jobs.worker import run_worker_forever
    from reeldocs.providers.base import ProviderError

    setup_logging()
    settings, urls, schema = prepare_and_migrate()
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
