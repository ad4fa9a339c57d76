"""`reeldocs serve` on several processes, so that the web app uses every core.

One Python process runs one event loop on one core at a time. The supervisor here
binds the listening socket once and starts `processes` web processes that accept on
it (the kernel hands each connection to one of them), and, unless told otherwise,
one worker process. Each attaches to the database itself: with the embedded
PostgreSQL it becomes one of the server's users, and the server stops when the last
of them, the supervisor, leaves.

The worker runs at a lower CPU priority (`WORKER_NICENESS`): a job's steps keep both
cores busy for as long as they run, and without it the web processes queued behind
them, answering polls in seconds instead of milliseconds. The job still gets every
cycle the web processes leave.

SIGTERM or Ctrl-C stops everything: the web processes finish the requests they are
serving, the worker hands back its job, and the supervisor exits last. A process
that dies is started again; a process whose supervisor died stops.
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
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

from reeldocs.core.db import database_urls
from reeldocs.core.limits import BoundedHttpToolsProtocol
from reeldocs.core.logs import setup_logging
from reeldocs.core.private_files import use_private_umask
from reeldocs.core.settings import Settings

_logger = logging.getLogger(__name__)

WORKER_NICENESS = 10
STOP_TIMEOUT_SECONDS = 30.0  # for a process to finish its work after SIGTERM
WATCH_SECONDS = 0.5
# A process that dies this soon after it started, this many times in a row, would die
# again: a web process stops everything with a message, the worker is given up on.
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
            "proxy_headers": False,  # the app believes REELDOCS_TRUSTED_PROXIES alone
            "http": BoundedHttpToolsProtocol,  # limits on the request line and headers
            # Reeldocs' own logging set-up (core/logs.py) decides what uvicorn's lines show.
            "log_config": None,
            "log_level": None,
            "access_log": self.access_log,
        }


def _stop_when_orphaned(supervisor: int) -> None:
    """SIGTERM this process once its supervisor is gone (a SIGKILL gives it no time to say)."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(WATCH_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _web_process(settings: Settings, options: WebOptions, listener: socket.socket) -> None:
    """A web process: attach to the database, build the app, serve on the shared socket."""
    import uvicorn

    from reeldocs.app import create_app

    setup_logging()
    use_private_umask()  # inherited from the supervisor; set again however it was started
    _stop_when_orphaned(os.getppid())
    urls = database_urls(settings)  # with the embedded server, attach to it
    application = create_app(settings, urls=urls)
    server = uvicorn.Server(uvicorn.Config(application, **options.uvicorn_kwargs()))
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches every process of the group
        server.run(sockets=[listener])


def _worker_process(settings: Settings, concurrency: int) -> None:
    """The job worker, at a lower CPU priority than the web processes."""
    from reeldocs.jobs.worker import run_worker_forever
    from reeldocs.providers.base import ProviderError

    setup_logging()
    use_private_umask()  # inherited from the supervisor; set again however it was started
    os.nice(WORKER_NICENESS)
    _stop_when_orphaned(os.getppid())
    urls = database_urls(settings)
    try:
        asyncio.run(
            run_worker_forever(
                settings, urls, concurrency=concurrency, install_signal_handlers=True
            )
        )
    except KeyboardInterrupt:
        pass
    except ProviderError as error:  # misconfigured providers (a missing model, say)
        _logger.error("The job worker cannot start: %s", error.message)
        raise SystemExit(1) from None


@dataclass
class _Child:
    """One kind of child process, started again when it dies."""

    kind: str  # "web" or "worker"
    start: Callable[[], SpawnProcess]
    process: SpawnProcess
    started_at: float
    early_deaths: int = 0


class _Supervisor:
    def __init__(self) -> None:
        self.children: list[_Child] = []
        self.stopping = False

    def add(self, kind: str, start: Callable[[], SpawnProcess]) -> None:
        self.children.append(_Child(kind, start, start(), time.monotonic()))

    def ask_to_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def watch(self) -> None:
        """Until asked to stop: start again each child that died."""
        while not self.stopping:
            wait([child.process.sentinel for child in self.children], WATCH_SECONDS)
            if not self.stopping:
                self._replace_dead()

    def _replace_dead(self) -> None:
        for child in list(self.children):
            if child.process.is_alive():
                continue
            lived = time.monotonic() - child.started_at
            child.early_deaths = child.early_deaths + 1 if lived < EARLY_DEATH_SECONDS else 0
            code = child.process.exitcode
            if child.early_deaths >= EARLY_DEATHS_TOLERATED:
                if child.kind == "web":
                    raise RuntimeError(
                        f"The web processes keep exiting at start (the last one with code "
                        f"{code}): see the messages above."
                    )
                _logger.error(
                    "The job worker keeps exiting at start (the last time with code %s): "
                    "see the messages above. The web app goes on without it; jobs wait "
                    "until a worker (reeldocs worker) takes them.",
                    code,
                )
                self.children.remove(child)
                continue
            _logger.warning(
                "the %s process %s exited with code %s after %.0f s; starting another",
                child.kind,
                child.process.pid,
                code,
                lived,
            )
            child.process = child.start()
            child.started_at = time.monotonic()

    def stop_all(self) -> None:
        # The web processes first, so that no request meets a worker that is leaving.
        for kind in ("web", "worker"):
            group = [child.process for child in self.children if child.kind == kind]
            for process in group:
                if process.is_alive() and process.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for process in group:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    _logger.warning("%s process %s did not stop in time", kind, process.pid)
                    process.kill()
                    process.join()


def serve_in_processes(
    settings: Settings,
    options: WebOptions,
    *,
    processes: int,
    run_worker: bool,
    worker_concurrency: int,
    announce: Callable[[str], None],
) -> None:
    """Run `processes` web processes (and a worker process) until SIGTERM or Ctrl-C."""
    import uvicorn

    config = uvicorn.Config("reeldocs.app:create_app", **options.uvicorn_kwargs())
    config.configure_logging()
    listener = config.bind_socket()  # exits with a message if it cannot
    announce(
        f"{processes} web processes"
        + (f" and a job worker running {worker_concurrency} at once" if run_worker else "")
    )

    def start_web() -> SpawnProcess:
        return _started(_web_process, (settings, options, listener), "reeldocs-web")

    def start_worker() -> SpawnProcess:
        return _started(_worker_process, (settings, worker_concurrency), "reeldocs-worker")

    supervisor = _Supervisor()
    previous = {
        signum: signal.signal(signum, supervisor.ask_to_stop)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        for _ in range(processes):
            supervisor.add("web", start_web)
        if run_worker:
            supervisor.add("worker", start_worker)
        supervisor.watch()
    finally:
        supervisor.stop_all()
        listener.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not settings.database_url:
            from reeldocs.core import embedded_db

            # A process that had to be killed never left the server's list of users.
            embedded_db.forget_dead_users()


def _started(target: Callable[..., None], args: tuple[Any, ...], name: str) -> SpawnProcess:
    process = _spawn.Process(target=target, args=args, name=name, daemon=False)
    process.start()
    return process
