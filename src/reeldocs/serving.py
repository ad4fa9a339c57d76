"""`reeldocs serve` on several processes, so that the web app uses every core.

One Python process runs one event loop on one core at a time. The supervisor here
binds the listening socket once and starts `processes` web processes that accept on
it (the kernel hands each connection to one of them). Each web process attaches to
the database itself: with the embedded PostgreSQL it becomes one of the server's
users, and the server stops when the last of them, the supervisor, leaves.

The job worker, unless told otherwise, runs in the supervisor and in no web process:
a job's CPU-heavy steps then never hold up a web process's event loop.

SIGTERM or Ctrl-C stops everything: the web processes finish the requests they are
serving and leave, the worker hands back its job, and the supervisor exits last. A
web process that dies is started again; a web process whose supervisor died stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from typing import Any

from reeldocs.core.db import DatabaseUrls, database_urls
from reeldocs.core.settings import Settings

_logger = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 30.0  # for a web process to finish its requests after SIGTERM
WATCH_SECONDS = 0.5
RESTART_DELAY_SECONDS = 1.0
# A web process that dies this soon after it started, this many times in a row, will
# die again: stop and say so rather than start it forever.
EARLY_DEATH_SECONDS = 10.0
EARLY_DEATHS_TOLERATED = 3

multiprocessing.allow_connection_pickling()  # sockets travel to spawned processes
_spawn = multiprocessing.get_context("spawn")


def default_web_processes() -> int:
    """One web process per core this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


@dataclass(frozen=True)
class WebOptions:
    """How each web process runs uvicorn (what `reeldocs serve` was told)."""

    host: str
    port: int
    access_log: bool

    def uvicorn_kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "proxy_headers": True,
            "log_level": "info",
            "access_log": self.access_log,
        }


def _exit_when_orphaned(server: Any, supervisor: int) -> None:
    """Stop the web process when its supervisor is gone (SIGKILL leaves no time to say so)."""
    while not server.should_exit:
        if os.getppid() != supervisor:
            server.should_exit = True
            return
        time.sleep(WATCH_SECONDS)


def _web_process(settings: Settings, options: WebOptions, listener: socket.socket) -> None:
    """A web process: attach to the database, build the app, serve on the shared socket."""
    import uvicorn

    from reeldocs.app import create_app

    supervisor = os.getppid()
    urls = database_urls(settings)  # with the embedded server, attach to it
    application = create_app(settings, urls=urls, say_missing_tools=False)
    server = uvicorn.Server(uvicorn.Config(application, **options.uvicorn_kwargs()))
    threading.Thread(target=_exit_when_orphaned, args=(server, supervisor), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches every process of the group
        server.run(sockets=[listener])


class _WebProcesses:
    def __init__(self, settings: Settings, options: WebOptions, listener: socket.socket) -> None:
        self.settings = settings
        self.options = options
        self.listener = listener
        self.running: list[tuple[SpawnProcess, float]] = []
        self.early_deaths = 0

    def start_one(self) -> None:
        process = _spawn.Process(
            target=_web_process,
            args=(self.settings, self.options, self.listener),
            name="reeldocs-web",
            daemon=False,
        )
        process.start()
        self.running.append((process, time.monotonic()))

    def replace_dead(self) -> None:
        """Start a web process in place of each one that died; raise when they keep dying."""
        for entry in list(self.running):
            process, started = entry
            if process.is_alive():
                continue
            self.running.remove(entry)
            lived = time.monotonic() - started
            self.early_deaths = self.early_deaths + 1 if lived < EARLY_DEATH_SECONDS else 0
            if self.early_deaths >= EARLY_DEATHS_TOLERATED:
                raise RuntimeError(
                    f"The web processes keep exiting at start (the last one with code "
                    f"{process.exitcode}): see the messages above."
                )
            _logger.warning(
                "web process %s exited with code %s after %.0f s; starting another",
                process.pid,
                process.exitcode,
                lived,
            )
            self.start_one()

    def stop_all(self) -> None:
        for process, _ in self.running:
            if process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid or 0, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process, _ in self.running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                _logger.warning("web process %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
        self.running.clear()


async def _supervise(
    web: _WebProcesses,
    settings: Settings,
    urls: DatabaseUrls,
    processes: int,
    run_worker: bool,
    worker_concurrency: int,
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker: asyncio.Task[None] | None = None
    try:
        for _ in range(processes):
            web.start_one()
        if run_worker:
            from reeldocs.jobs.worker import run_worker_forever

            worker = asyncio.create_task(
                run_worker_forever(settings, urls, concurrency=worker_concurrency)
            )
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_SECONDS)
            web.replace_dead()
            if worker is not None and worker.done() and not worker.cancelled():
                error = worker.exception()
                _logger.error("the job worker stopped: %s", error, exc_info=error)
                worker = None
    finally:
        # The web processes go first, so that no request meets a worker that is leaving.
        await asyncio.to_thread(web.stop_all)
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker


def serve_in_processes(
    settings: Settings,
    urls: DatabaseUrls,
    options: WebOptions,
    *,
    processes: int,
    run_worker: bool,
    worker_concurrency: int,
) -> None:
    """Run `processes` web processes (and the worker, here) until SIGTERM or Ctrl-C."""
    import uvicorn

    from reeldocs.app import report_missing_tools

    config = uvicorn.Config("reeldocs.app:create_app", **options.uvicorn_kwargs())
    config.configure_logging()
    listener = config.bind_socket()  # logs where it listens; exits with a message if it cannot
    report_missing_tools(settings)
    _logger.info(
        "serving with %d web processes%s",
        processes,
        " and the job worker in the supervisor" if run_worker else "",
    )
    web = _WebProcesses(settings, options, listener)
    try:
        asyncio.run(_supervise(web, settings, urls, processes, run_worker, worker_concurrency))
    finally:
        listener.close()
        if not settings.database_url:
            from reeldocs.core import embedded_db

            # A web process that had to be killed never left the server's list of users.
            embedded_db.forget_dead_users()
