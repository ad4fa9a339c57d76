"""Jobs on S3 storage that goes away: real workers reach moto's server through a proxy the
test controls, while the web app (which receives the uploads) talks to it directly."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video
from support.s3 import AWS_ENV, BUCKET, S3Server, s3_server
from support.tcp_proxy import FaultyProxy

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.conftest import _RUN_DIR as RUN_DIR
from tests.conftest import LiveServer, WorkerProcesses, configured_server, sign_up
from tests.jobs.conftest import job_rows

SLIDES = ["Sign in", "Open settings", "Save"]
UNIQUE_KEYS = {
    "chapters": 'run_id, language, "order"',
    "articles": 'run_id, language, "order"',
    "subtitles": "run_id, language",
    "screenshots": "run_id, name",
}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="module")
def slides_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slide_video(tmp_path_factory.mktemp("media") / "settings.mp4", SLIDES, 2.0)


@pytest.fixture
def proxy(s3: S3Server) -> Iterator[FaultyProxy]:
    host, port = s3.endpoint.removeprefix("http://").split(":")
    proxy = FaultyProxy(host, int(port))
    yield proxy
    proxy.close()


@pytest.fixture
def storage_url(s3: S3Server) -> str:
    return f"s3://{BUCKET}/{s3.prefix()}"


@pytest.fixture
def server(
    s3: S3Server, storage_url: str, settings: Settings, db_urls: DatabaseUrls
) -> Iterator[LiveServer]:
    with configured_server(
        settings, db_urls, storage_url=storage_url, s3_endpoint_url=s3.endpoint
    ) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    session = sign_up(server.url, "storage")
    api = bearer_client(session)
    session.close()
    yield api
    api.close()


def _worker_env(storage_url: str, proxy: FaultyProxy, **extra: str) -> dict[str, str]:
    return {
        **AWS_ENV,
        "REELDOCS_STORAGE_URL": storage_url,
        "REELDOCS_S3_ENDPOINT_URL": proxy.url,
        **extra,
    }


def test_storage_down_while_a_job_runs_is_waited_for_then_fails_with_a_sentence(
    client: httpx.Client,
    proxy: FaultyProxy,
    storage_url: str,
    slides_video: Path,
    workers: WorkerProcesses,
    tmp_path: Path,
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    workers.start(
        **_worker_env(
            storage_url,
            proxy,
            REELDOCS_TEST_HOLD_AT="uploading",  # held before the video is fetched
            REELDOCS_TEST_HOLD_FILE=str(hold),
            REELDOCS_JOB_RETRY_BACKOFF_SECONDS="0.5",
        )
    )
    video = upload_video(client, create_project(client)["id"], slides_video)

    # Down, then back while the job waits for it: the job completes.
    job_id = process(client, video["id"], ["en"])
    wait_for_job(client, job_id, until=_held_at_uploading)
    proxy.down()
    hold.unlink()
    waiting = wait_for_job(client, job_id, until=_waiting_for_storage, timeout=60)
    assert waiting["status"] == "processing", waiting
    proxy.back()
    done = wait_for_job(client, job_id, timeout=180)
    assert done["status"] == "completed", done
    assert done["attempt"] == 1

    # Down for good: after its retries the job fails, saying what to do.
    hold.touch()
    again = process(client, video["id"], ["en"])
    wait_for_job(client, again, until=_held_at_uploading)
    proxy.down()
    hold.unlink()
    failed = wait_for_job(client, again, timeout=120)
    assert failed["status"] == "failed", failed
    assert failed["failed_step"] == "uploading"
    assert "file storage could not be reached" in failed["error_message"]
    assert "unexpected" not in failed["error_message"]
    proxy.back()
    # the video keeps the docs of the first job
    assert client.get(f"/api/videos/{video['id']}").json()["status"] == "ready"


def test_a_download_longer_than_the_heartbeat_window_runs_once(
    client: httpx.Client,
    proxy: FaultyProxy,
    storage_url: str,
    slides_video: Path,
    workers: WorkerProcesses,
    db_urls: DatabaseUrls,
    tmp_path: Path,
) -> None:
    stalled_after = 3.0
    env = _worker_env(
        storage_url,
        proxy,
        REELDOCS_WORKER_HEARTBEAT_SECONDS="1",
        REELDOCS_WORKER_STALLED_SECONDS=str(stalled_after),
        REELDOCS_DATABASE_URL=db_urls.libpq,
    )
    started = [  # two machines, as far as their files go
        workers.start(REELDOCS_DATA_DIR=str(tmp_path / f"machine-{number}"), **env)
        for number in range(2)
    ]
    video = upload_video(client, create_project(client)["id"], slides_video)

    # The download stops half way, for longer than a silent worker keeps its job.
    proxy.hold_transfers_after(slides_video.stat().st_size // 2)
    job_id = process(client, video["id"], ["en"])
    assert proxy.held.wait(120), "the worker never started the download"
    heartbeats: set[datetime] = set()
    held_until = time.monotonic() + max(10.0, 3 * stalled_after)
    while time.monotonic() < held_until:
        heartbeats.add(_heartbeat(db_urls.libpq, job_id))
        time.sleep(0.25)
    proxy.release()

    done = wait_for_job(client, job_id, timeout=180)
    assert done["status"] == "completed", done
    assert done["attempt"] == 1  # no other worker took it over
    assert len(heartbeats) >= 3, f"heartbeats during the download: {sorted(heartbeats)}"
    queue_job = _queue_job(db_urls.libpq, job_id)
    # the engine ran it once: a stalled job put back in the queue would count two
    assert queue_job == {"attempts": 1, "status": "succeeded"}, queue_job
    assert job_rows(db_urls.libpq, video["id"]) == 1
    _assert_no_duplicates(db_urls.libpq, video["id"])
    # each worker's log lines say which machine and process wrote them
    logs = [path.read_text() for path in sorted(RUN_DIR.glob("worker-*.log"))]
    for worker in started:
        assert any(f"{socket.gethostname()}[{worker.pid}] " in log for log in logs)


def _held_at_uploading(job: dict[str, Any]) -> bool:
    return job["status"] == "processing" and job["step"] == "uploading"


def _waiting_for_storage(job: dict[str, Any]) -> bool:
    return job["status"] != "processing" or "file storage is not answering" in (
        job["step_message"] or ""
    )


def _heartbeat(db_url: str, job_id: str) -> datetime:
    """When the worker running the job last said it is alive."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            """
            SELECT w.last_heartbeat FROM processing_jobs p
            JOIN procrastinate_jobs j ON j.id = p.queue_job_id
            JOIN procrastinate_workers w ON w.id = j.worker_id
            WHERE p.id = %s
            """,
            (job_id,),
        ).fetchone()
    assert row is not None, "the job has no worker"
    value: datetime = row[0]
    return value


def _queue_job(db_url: str, job_id: str) -> dict[str, Any]:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            """
            SELECT j.attempts, j.status FROM processing_jobs p
            JOIN procrastinate_jobs j ON j.id = p.queue_job_id WHERE p.id = %s
            """,
            (job_id,),
        ).fetchone()
    assert row is not None
    return {"attempts": row[0], "status": row[1]}


def _assert_no_duplicates(db_url: str, video_id: str) -> None:
    with psycopg.connect(db_url) as conn:
        for table, key in UNIQUE_KEYS.items():
            row = conn.execute(
                f"SELECT count(*), count(DISTINCT ({key})) FROM {table} WHERE video_id = %s",
                (video_id,),
            ).fetchone()
            assert row is not None
            assert row[0] == row[1], f"duplicate rows in {table}"
