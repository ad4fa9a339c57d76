"""Cancelling a job in the middle of speech recognition, then retrying it from its checkpoints."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from support.api import create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from tests.conftest import WorkerProcesses

SLIDES = ["Welcome", "Create a project", "Upload a video", "Pick languages", "Read the docs"]
SPEECH = [
    "welcome to the product tour of this application",
    "first create a new project from the dashboard page",
    "then upload your video file and give it a title",
    "pick the languages you want for the documentation",
    "finally read the articles and download the subtitles",
]
# Half a minute of talk per slide: the job is held in the middle of hearing it (the
# worker's test hold at a progress point), so the cancel lands inside speech recognition
# whatever this machine's speed.
TALK = [" ".join([phrase] * 6) for phrase in SPEECH]
SECONDS_PER_TALK_SLIDE = 28.0
HELD_AT = 0.2  # job progress: part of the way through transcribing (0.1–0.55)


@pytest.fixture(scope="module")
def speech_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "tour.mp4"
    return make_slide_video(path, SLIDES, 5.0, speech=SPEECH)


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "talk.mp4"
    return make_slide_video(path, SLIDES, SECONDS_PER_TALK_SLIDE, speech=TALK)


def _children(process: psutil.Process) -> list[psutil.Process]:
    return [
        c for c in process.children(recursive=True) if c.is_running() and c.status() != "zombie"
    ]


def _engine_status(db_url: str, job_id: str) -> str | None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT status FROM procrastinate_jobs WHERE args->>'job_id' = %s ORDER BY id DESC",
            (job_id,),
        ).fetchone()
    return None if row is None else str(row[0])


def _count(db_url: str, table: str, video_id: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE video_id = %s", (video_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_cancel_during_speech_recognition_then_retry_resumes(
    api: httpx.Client, talk_video: Path, workers: WorkerProcesses, db_url: str, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    worker = psutil.Process(
        workers.start(
            REELDOCS_TEST_HOLD_AT=f"transcribing@{HELD_AT}", REELDOCS_TEST_HOLD_FILE=str(hold)
        ).pid
    )
    project = create_project(api)
    video = upload_video(api, project["id"], talk_video)
    job_id = process(api, video["id"], ["en", "es"])

    running = wait_for_job(api, job_id, until=lambda j: j["progress"] >= HELD_AT, timeout=120)
    assert running["status"] == "processing" and running["step"] == "transcribing", running
    heard = re.search(r"\((\d+) of (\d+) s\)", running["step_message"])
    assert heard and int(heard[1]) < int(heard[2]), running  # part of the speech is heard

    asked = time.monotonic()
    answer = api.post(f"/api/jobs/{job_id}/cancel")
    assert answer.status_code == 202
    assert answer.json()["status"] == "cancelled"
    # The worker stops within a few seconds: the abort is seen within a second, and the
    # recogniser stops at its next progress report.
    while time.monotonic() - asked < 5.0:
        if _engine_status(db_url, job_id) in ("aborted", "failed", "succeeded"):
            break
        time.sleep(0.05)
    stopped_after = time.monotonic() - asked
    assert _engine_status(db_url, job_id) in ("aborted", "failed", "succeeded")
    assert stopped_after < 5.0
    assert worker.is_running() and not _children(worker)  # recognition runs in the worker

    cancelled = api.get(f"/api/jobs/{job_id}").json()
    assert cancelled["status"] == "cancelled"
    # a cancel is an expected end: the worker's log tells of it without a traceback
    log = workers.logs[-1].read_text(errors="replace")
    assert "never retrieved" not in log and "Traceback" not in log, log
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "uploaded"
    # nothing half-written looks complete: no published docs, no segments served
    assert api.get(f"/api/videos/{video['id']}/segments").json() == []
    assert api.get(f"/api/videos/{video['id']}/articles").status_code == 404

    hold.unlink()
    retry = api.post(f"/api/jobs/{job_id}/retry")
    assert retry.status_code == 202
    new_id = retry.json()["job_id"]
    done = wait_for_job(api, new_id, timeout=180)
    assert done["status"] == "completed", done
    assert done["retry_of"] == job_id
    assert done["language_results"]["es"]["status"] == "completed"
    assert api.get(f"/api/jobs/{job_id}").json()["status"] == "retried"
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "ready"
    segments = _count(db_url, "video_segments", video["id"])
    assert segments > 0

    # The retry reused the scene checkpoint of the cancelled run: one row per scene, not two.
    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "SELECT count(DISTINCT run_id) FROM screenshots WHERE video_id = %s", (video["id"],)
        ).fetchone()
        scene_rows = conn.execute(
            "SELECT count(*) FROM screenshots WHERE video_id = %s AND scene_index IS NOT NULL",
            (video["id"],),
        ).fetchone()
    assert runs == (1,)
    assert scene_rows == (len(SLIDES),)


def test_a_new_request_regenerates_and_replaces_only_on_completion(
    api: httpx.Client, speech_video: Path, workers: WorkerProcesses, db_url: str, tmp_path: Path
) -> None:
    hold = tmp_path / "hold"
    workers.start(REELDOCS_TEST_HOLD_AT="generating_docs", REELDOCS_TEST_HOLD_FILE=str(hold))
    project = create_project(api)
    video = upload_video(api, project["id"], speech_video)
    first = wait_for_job(api, process(api, video["id"], ["en"]))
    assert first["status"] == "completed"
    before = api.get(f"/api/videos/{video['id']}/articles").json()
    assert before

    hold.touch()  # the new run waits at generating_docs until the file goes
    second_id = process(api, video["id"], ["en", "es"])
    midway = wait_for_job(api, second_id, until=lambda j: j["step"] == "generating_docs")
    assert midway["status"] == "processing"
    # while the new run works, the old docs are still what is served
    assert api.get(f"/api/videos/{video['id']}/articles").json() == before
    hold.unlink()
    second = wait_for_job(api, second_id)
    assert second["status"] == "completed"
    after_es = api.get(f"/api/videos/{video['id']}/articles?language=es").json()
    assert after_es
    # only the new run's rows remain
    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "SELECT count(DISTINCT run_id) FROM articles WHERE video_id = %s", (video["id"],)
        ).fetchone()
    assert runs == (1,)
