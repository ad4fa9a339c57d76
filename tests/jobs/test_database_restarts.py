"""A database restart in the middle of a job: the job completes, as the same attempt.

On an external PostgreSQL 15 over TCP (a cluster of this module's own, which it may
stop and start) and on the embedded server. Jobs are held still with the test hold
(REELDOCS_TEST_HOLD_AT) while the server goes away, so what happens does not depend on
this machine's speed: the worker is caught either writing progress while the server is
down or running with its engine worker cut off, and the test waits for the worker to
say so in its log before the server comes back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls, migrate
from reeldocs.core.settings import Settings
from tests.conftest import (
    LiveServer,
    WorkerProcesses,
    _fresh_external_database,
    free_port,
    sign_up,
)
from tests.jobs.test_recovery import SLIDES, SPEECH, assert_no_duplicates

ROOT = Path(__file__).resolve().parents[2]
PG15_BIN = Path("/usr/lib/postgresql/15/bin")
HELD_IN_TRANSCRIBING = 0.2  # job progress part of the way through speech recognition

# What a worker logs when a step's own write finds the database gone (Reeldocs
# before it knew better called that a failure).
STEP_LOST_DATABASE = ("lost its database connection", "failed unexpectedly")
# What it logs when its job engine finds the database gone, and back.
ENGINE_LOST_DATABASE = ("the job engine lost its LISTEN connection", "Stop requested")
LISTENING_AGAIN = ("the job engine listens for new jobs again",)


@dataclass
class OwnPostgres:
    """A PostgreSQL 15 cluster started for this module, on 127.0.0.1 over TCP."""

    cluster: Path
    url: str

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        command = [str(PG15_BIN / "pg_ctl"), "-D", str(self.cluster / "data"), "-w", *args]
        if os.geteuid() == 0:  # the server runs as the postgres OS user
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=check, capture_output=True, cwd="/", timeout=120)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        port = urlsplit(self.url).port
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k '{self.cluster}'"
        self._pg_ctl("-l", str(self.cluster / "server.log"), "-o", options, "start")


@pytest.fixture(scope="module")
def postgres15() -> Iterator[OwnPostgres]:
    if not (PG15_BIN / "pg_ctl").exists() and os.geteuid() != 0:
        pytest.skip("PostgreSQL 15 is not installed (make test installs it)")
    # In /tmp itself: the server's OS user must be able to reach the cluster directory.
    cluster = Path(tempfile.mkdtemp(prefix="reeldocs-restarts-pg15-"))
    started = subprocess.run(
        [str(ROOT / "scripts" / "start-postgres15.sh"), str(cluster), str(free_port())],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    server = OwnPostgres(cluster, started.stdout.strip())
    try:
        yield server
    finally:
        server._pg_ctl("-m", "immediate", "stop", check=False)  # a failed test may leave it down
        shutil.rmtree(cluster, ignore_errors=True)


@dataclass
class Deployment:
    """The app and its workers on one database, and a signed-up user's API client."""

    urls: DatabaseUrls
    server: LiveServer
    api: httpx.Client
    workers: WorkerProcesses
    worker_env: dict[str, str]


@pytest.fixture(scope="module")
def speech_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "settings.mp4"
    return make_slide_video(path, SLIDES, 4.0, speech=SPEECH)


@pytest.fixture(scope="module")
def external(postgres15: OwnPostgres, settings: Settings) -> Iterator[Deployment]:
    """The app on the module's own PostgreSQL 15, with a user to call it."""
    urls = _fresh_external_database(postgres15.url)
    migrate(urls)
    server = LiveServer(settings, urls, run_worker=False).start()
    user = sign_up(server.url, "restarts")
    api = bearer_client(user)
    try:
        yield Deployment(
            urls, server, api, WorkerProcesses(urls), {"REELDOCS_DATABASE_URL": urls.libpq}
        )
    finally:
        api.close()
        user.close()
        server.stop()


@pytest.fixture
def deployment(external: Deployment) -> Iterator[Deployment]:
    """The external deployment, its workers stopped after each test."""
    try:
        yield external
    finally:
        external.workers.stop_all()


def _log_sizes(workers: WorkerProcesses) -> dict[Path, int]:
    return {log: log.stat().st_size for log in workers.logs}


def _wait_for_log(
    workers: WorkerProcesses, since: dict[Path, int], needles: tuple[str, ...]
) -> str:
    """Wait until a worker logs one of `needles` after the sizes in `since`; that line."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for log in workers.logs:
            with open(log, "rb") as handle:
                handle.seek(since.get(log, 0))
                for line in handle.read().decode(errors="replace").splitlines():
                    if any(needle in line for needle in needles):
                        return line
        time.sleep(0.05)
    raise AssertionError(f"no worker logged any of {needles} within 60 s")


def _wait_until_answering(api: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if api.get("/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the app did not reconnect to the database"
        time.sleep(0.1)


def _events(db_url: str, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT type, payload FROM job_events WHERE job_id = %s ORDER BY id", (job_id,)
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _assert_completed_as_first_attempt(
    api: httpx.Client, db_url: str, job_id: str, video_id: str
) -> None:
    done = wait_for_job(api, job_id, timeout=180)
    assert done["status"] == "completed", done
    assert done["attempt"] == 1, "losing the database cost the job an attempt"
    assert done["progress"] == 1.0
    assert_no_duplicates(db_url, video_id)
    # One event, in the transaction that completed it, carrying the job as the API shows it.
    assert _events(db_url, job_id) == [("job.completed", api.get(f"/api/jobs/{job_id}").json())]
    assert api.get(f"/api/videos/{video_id}/articles?language=es").json()
    assert "WEBVTT" in api.get(f"/api/videos/{video_id}/subtitles.vtt?language=es").text


def _assert_a_new_job_is_picked_up(api: httpx.Client, project_id: str, video: Path) -> None:
    uploaded = upload_video(api, project_id, video, title="After the restart")
    later = wait_for_job(api, process(api, uploaded["id"], ["en"]), timeout=180)
    assert later["status"] == "completed", later
    assert later["attempt"] == 1


def _held_job(
    deployment: Deployment, video: Path, hold_at: str, hold: Path, held: Callable[[Any], bool]
) -> tuple[dict[str, Any], str, str]:
    hold.touch()
    deployment.workers.start(
        REELDOCS_TEST_HOLD_AT=hold_at, REELDOCS_TEST_HOLD_FILE=str(hold), **deployment.worker_env
    )
    project = create_project(deployment.api)
    uploaded = upload_video(deployment.api, project["id"], video)
    job_id = process(deployment.api, uploaded["id"], ["en", "es"])
    wait_for_job(deployment.api, job_id, until=held, timeout=120)
    return project, uploaded["id"], job_id


def test_external_server_restarts_while_speech_recognition_reports_progress(
    deployment: Deployment, postgres15: OwnPostgres, speech_video: Path, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    project, video_id, job_id = _held_job(
        deployment,
        speech_video,
        f"transcribing@{HELD_IN_TRANSCRIBING}",
        hold,
        lambda job: job["progress"] >= HELD_IN_TRANSCRIBING,
    )
    since = _log_sizes(deployment.workers)
    postgres15.stop()
    # The recogniser goes on, reporting progress to a server that is gone, until the
    # step stores its segments: that write cannot wait.
    hold.unlink()
    _wait_for_log(deployment.workers, since, STEP_LOST_DATABASE)
    postgres15.start()

    _wait_until_answering(deployment.api)
    _assert_completed_as_first_attempt(deployment.api, deployment.urls.libpq, job_id, video_id)
    _assert_a_new_job_is_picked_up(deployment.api, project["id"], speech_video)


def test_external_server_restarts_while_a_translation_waits(
    deployment: Deployment, postgres15: OwnPostgres, speech_video: Path, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    project, video_id, job_id = _held_job(
        deployment,
        speech_video,
        "translating_es",
        hold,
        lambda job: job["step"] == "translating_es",
    )
    since = _log_sizes(deployment.workers)
    postgres15.stop()
    # The job writes nothing while held: the job engine's LISTEN connection is what
    # finds the server gone; it must listen again once the server is back.
    _wait_for_log(deployment.workers, since, ENGINE_LOST_DATABASE)
    since = _log_sizes(deployment.workers)
    postgres15.start()
    _wait_for_log(deployment.workers, since, LISTENING_AGAIN)
    hold.unlink()

    _wait_until_answering(deployment.api)
    _assert_completed_as_first_attempt(deployment.api, deployment.urls.libpq, job_id, video_id)
    _assert_a_new_job_is_picked_up(deployment.api, project["id"], speech_video)


def test_embedded_server_restarts_while_docs_are_written(
    api: httpx.Client, workers: WorkerProcesses, db_url: str, speech_video: Path, tmp_path: Path
) -> None:
    if os.environ.get("REELDOCS_DATABASE_URL"):
        pytest.skip("restarts the embedded PostgreSQL; this run uses an external one")
    from reeldocs.core import embedded_db

    hold = tmp_path / "hold"
    hold.touch()
    workers.start(REELDOCS_TEST_HOLD_AT="generating_docs", REELDOCS_TEST_HOLD_FILE=str(hold))
    project = create_project(api)
    uploaded = upload_video(api, project["id"], speech_video)
    job_id = process(api, uploaded["id"], ["en", "es"])
    wait_for_job(api, job_id, until=lambda job: job["step"] == "generating_docs", timeout=120)

    embedded_db.restart()
    hold.unlink()

    _wait_until_answering(api)
    _assert_completed_as_first_attempt(api, db_url, job_id, uploaded["id"])
    _assert_a_new_job_is_picked_up(api, project["id"], speech_video)
