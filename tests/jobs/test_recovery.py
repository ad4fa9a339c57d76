"""Crash recovery with real processes: SIGKILLed workers and a crash loop.

Database restarts are in test_database_restarts.py.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from support.api import create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from tests.conftest import WorkerProcesses
from tests.jobs.conftest import job_rows

SLIDES = ["Sign in", "Open settings", "Save"]
SPEECH = [
    "sign in with your account",
    "open the settings page from the menu",
    "press save to keep your changes",
]

# Every table a run writes, and the key that must never repeat in it.
UNIQUE_KEYS = {
    "video_segments": 'run_id, "order"',
    "chapters": 'run_id, language, "order"',
    "articles": 'run_id, language, "order"',
    "subtitles": "run_id, language",
    "screenshots": "run_id, name",
}


@pytest.fixture(scope="module")
def speech_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "settings.mp4"
    return make_slide_video(path, SLIDES, 4.0, speech=SPEECH)


def assert_no_duplicates(db_url: str, video_id: str) -> None:
    with psycopg.connect(db_url) as conn:
        for table, key in UNIQUE_KEYS.items():
            row = conn.execute(
                f"SELECT count(*), count(DISTINCT ({key})) FROM {table} WHERE video_id = %s",
                (video_id,),
            ).fetchone()
            assert row is not None
            assert row[0] == row[1], f"duplicate rows in {table}"
    assert job_rows(db_url, video_id) == 1


@pytest.mark.parametrize("step", ["transcribing", "generating_docs", "translating_es", "subtitles"])
def test_sigkilled_worker_job_completes_on_another(
    api: httpx.Client, speech_video: Path, workers: WorkerProcesses, db_url: str, step: str
) -> None:
    # The first worker holds each step for a while so the kill lands inside it.
    doomed = workers.start(REELDOCS_TEST_PAUSE_AT=f"{step}:30")
    project = create_project(api)
    video = upload_video(api, project["id"], speech_video)
    job_id = process(api, video["id"], ["en", "es"])
    wait_for_job(api, job_id, until=lambda j: j["step"] == step, timeout=120)

    survivor = workers.start()
    os.kill(doomed.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    doomed.wait(timeout=10)

    resumed = wait_for_job(api, job_id, until=lambda j: j["attempt"] == 2, timeout=30)
    running_again_after = time.monotonic() - killed_at
    assert running_again_after < 15, f"running again only after {running_again_after:.1f} s"
    assert resumed["status"] in ("processing", "completed")

    done = wait_for_job(api, job_id, timeout=180)
    assert done["status"] == "completed", done
    assert done["attempt"] == 2
    assert done["progress"] == 1.0
    assert survivor.poll() is None
    assert_no_duplicates(db_url, video["id"])
    assert api.get(f"/api/videos/{video['id']}/articles?language=es").json()
    assert "WEBVTT" in api.get(f"/api/videos/{video['id']}/subtitles.vtt?language=es").text


def test_a_job_that_kills_its_worker_every_time_fails_after_the_cap(
    api: httpx.Client, speech_video: Path, workers: WorkerProcesses
) -> None:
    project = create_project(api)
    video = upload_video(api, project["id"], speech_video)
    job_id = process(api, video["id"], ["en"])
    deadline = time.monotonic() + 120
    current = workers.start(REELDOCS_TEST_CRASH_AT="transcribing")
    while True:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["status"] == "failed":
            break
        assert time.monotonic() < deadline, job
        if current.poll() is not None:  # it crashed: bring up the next worker
            current = workers.start(REELDOCS_TEST_CRASH_AT="transcribing")
        time.sleep(0.2)
    assert "the worker stopped 3 times while processing this video" in job["error_message"]
    assert job["failed_step"] == "transcribing"
    assert job["attempt"] == 3
    video_now = api.get(f"/api/videos/{video['id']}").json()
    assert video_now["status"] == "failed"
