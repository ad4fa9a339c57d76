"""Shared fixtures: one real PostgreSQL per run, migrated; a live server on 127.0.0.1.

Without REELDOCS_DATABASE_URL the run starts the embedded PostgreSQL in a fresh
data directory; with it (PostgreSQL 15 in CI), a fresh database is created there.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

# Everything the app reads from the environment points inside this run's folder.
_RUN_DIR = Path(tempfile.mkdtemp(prefix="reeldocs-test-"))
os.environ["REELDOCS_DATA_DIR"] = str(_RUN_DIR / "data")
os.environ.setdefault("REELDOCS_PROVIDER", "offline")
os.environ.pop("GEMINI_API_KEY", None)
os.environ["REELDOCS_STORAGE_URL"] = str(_RUN_DIR / "storage")
# Every test client comes from 127.0.0.1: limits per client address would make the tests
# depend on each other. The tests of those limits run servers that have them.
os.environ["REELDOCS_SIGNUPS_PER_HOUR"] = "0"
os.environ["REELDOCS_LOGIN_FAILURES_PER_ADDRESS"] = "0"

from reeldocs.core.db import DatabaseUrls, database_urls, migrate  # noqa: E402
from reeldocs.core.settings import Settings, load_settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _fresh_external_database(url: str) -> DatabaseUrls:
    admin = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    name = f"reeldocs_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    full = base + ("?" + query if query else "")
    rest = full.split("://", 1)[1]
    return DatabaseUrls(f"postgresql+psycopg://{rest}", f"postgresql://{rest}")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def db_urls(settings: Settings) -> Iterator[DatabaseUrls]:
    external = os.environ.get("REELDOCS_DATABASE_URL")
    urls = _fresh_external_database(external) if external else database_urls(settings)
    migrate(urls)
    yield urls
    if not external:
        # Worker processes killed by the recovery tests never detach from the embedded
        # server: stop it here rather than leave it running after the run.
        from reeldocs.core import embedded_db

        embedded_db.stop()


@pytest.fixture(scope="session")
def db_url(db_urls: DatabaseUrls) -> str:
    """libpq URL of the test database, logged in as the service role (tables' owner)."""
    return db_urls.libpq


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn, in a thread, on 127.0.0.1."""

    def __init__(self, settings: Settings, urls: DatabaseUrls, *, run_worker: bool) -> None:
        from reeldocs.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, urls=urls, run_worker=run_worker)
        from reeldocs.core.limits import BoundedHttpToolsProtocol

        # served the way `reeldocs serve` serves it
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            proxy_headers=False,
            http=BoundedHttpToolsProtocol,
            # Longer than the test clients keep an idle connection (httpx: 5 s), so the
            # client always drops it first: with both at 5 s, a request sent as the server
            # closed the connection was reset (ECONNRESET) now and then.
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(settings: Settings, db_urls: DatabaseUrls) -> Iterator[LiveServer]:
    """The app, shared by the whole run. It runs no worker: tests that need jobs
    processed start real `reeldocs worker` processes (see `workers`)."""
    server = LiveServer(settings, db_urls, run_worker=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


PASSWORD = "correct horse battery"


def sign_up(base_url: str, prefix: str = "user") -> httpx.Client:
    """A new user signed up on the server at `base_url`; a client holding their session."""
    client = httpx.Client(base_url=base_url, timeout=60)
    email = unique_email(prefix)
    answer = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    client.email = email  # type: ignore[attr-defined]
    client.user_id = answer.json()["user_id"]  # type: ignore[attr-defined]
    client.org_id = answer.json()["org_id"]  # type: ignore[attr-defined]
    return client


def _user_factory(base_url: str) -> Iterator[Callable[..., httpx.Client]]:
    clients: list[httpx.Client] = []

    def make(prefix: str = "user") -> httpx.Client:
        client = sign_up(base_url, prefix)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_user(base_url: str) -> Iterator[Callable[..., httpx.Client]]:
    """Sign up a new user; returns a client holding their session cookie."""
    yield from _user_factory(base_url)


@pytest.fixture(scope="module")
def make_module_user(base_url: str) -> Iterator[Callable[..., httpx.Client]]:
    yield from _user_factory(base_url)


@pytest.fixture
def user(make_user: Callable[..., httpx.Client]) -> httpx.Client:
    return make_user()


class WorkerProcesses:
    """Real `reeldocs worker` processes on the run's database and storage."""

    def __init__(self, urls: DatabaseUrls) -> None:
        self.urls = urls
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []  # each process's output, in start order

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        if os.environ.get("REELDOCS_DATABASE_URL"):
            env["REELDOCS_DATABASE_URL"] = self.urls.libpq
        env.update(extra)
        return env

    def start(self, concurrency: int = 1, **extra_env: str) -> subprocess.Popen[bytes]:
        handle, name = tempfile.mkstemp(prefix="worker-", suffix=".log", dir=_RUN_DIR)
        os.close(handle)
        path = Path(name)
        self.logs.append(path)
        with open(path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "reeldocs.cli", "worker", "--concurrency", str(concurrency)],
                env=self.env(**extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def cancel_leftover_jobs(db_url: str) -> None:
    """Cancel jobs other test modules left pending on purpose (they ran no worker), so a
    worker started now works on this module's jobs only, not on a backlog."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            """
            WITH stopped AS (
                UPDATE processing_jobs SET status = 'cancelled', cancel_requested = true
                WHERE status IN ('pending', 'processing')
                RETURNING queue_job_id
            )
            SELECT procrastinate_cancel_job_v1(queue_job_id, true, true)
            FROM stopped WHERE queue_job_id IS NOT NULL
            """
        )


@contextmanager
def worker_group(urls: DatabaseUrls, *, start: bool, **env: str) -> Iterator[WorkerProcesses]:
    """Workers for this module's jobs only; with `start`, one is running, its environment
    changed by `env` (REELDOCS_PROVIDER=gemini, say)."""
    cancel_leftover_jobs(urls.libpq)
    group = WorkerProcesses(urls)
    if start:
        group.start(**env)
    try:
        yield group
    finally:
        group.stop_all()


@contextmanager
def configured_server(
    settings: Settings, urls: DatabaseUrls, **changes: Any
) -> Iterator[LiveServer]:
    """A live server without a worker, its settings changed by `changes`."""
    server = LiveServer(dataclasses.replace(settings, **changes), urls, run_worker=False).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def workers(db_urls: DatabaseUrls) -> Iterator[WorkerProcesses]:
    with worker_group(db_urls, start=False) as group:
        yield group


@pytest.fixture(scope="module")
def module_worker(db_urls: DatabaseUrls) -> Iterator[WorkerProcesses]:
    with worker_group(db_urls, start=True) as group:
        yield group
