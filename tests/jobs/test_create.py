"""Creating jobs: validation, one active job per video, and atomicity with the queue.

No worker runs in this module, so every job created here stays pending.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from support.api import bearer_client, create_project, upload_video
from support.media_factory import make_slide_video

from tests.jobs.conftest import job_rows


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "small.mp4"
    return make_slide_video(path, ["One", "Two"], 1.5)


@pytest.fixture
def video(api: httpx.Client, small_video: Path) -> dict[str, Any]:
    project = create_project(api)
    return upload_video(api, project["id"], small_video)


def _engine_jobs(db_url: str, job_id: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE args->>'job_id' = %s", (job_id,)
        ).fetchone()
        assert row is not None
        return int(row[0])


def test_process_answers_at_once_with_a_pending_job(
    api: httpx.Client, video: dict[str, Any], db_url: str
) -> None:
    answer = api.post("/api/videos/process", json={"videoId": video["id"], "languages": ["en"]})
    assert answer.status_code == 202
    body = answer.json()
    assert body["job_id"] == body["jobId"]
    job = api.get(f"/api/jobs/{body['job_id']}").json()
    assert job["status"] == "pending"
    assert job["progress"] == 0
    assert job["languages"] == ["en"]
    assert job["attempt"] == 1 and job["retry_of"] is None
    assert job["video_title"] == video["title"]
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "processing"
    assert _engine_jobs(db_url, body["job_id"]) == 1


@pytest.mark.parametrize(
    ("languages", "fragment"),
    [
        ([], "at least"),
        (["en", "en"], "once"),
        (["xx"], "writes them in English (en) and translates them from there. Pick English"),
        (["es"], "Pick English (en) first, then Spanish (es) as a translation."),
        (["en", "xx"], "cannot translate docs into xx (xx). It translates into "),
    ],
)
def test_languages_are_validated(
    api: httpx.Client, video: dict[str, Any], languages: list[str], fragment: str
) -> None:
    answer = api.post("/api/videos/process", json={"video_id": video["id"], "languages": languages})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "ValidationError"
    assert fragment in answer.json()["detail"]
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "uploaded"


def test_a_spoken_language_the_speech_model_cannot_hear_is_refused_with_what_to_set(
    api: httpx.Client, video: dict[str, Any]
) -> None:
    body = {"video_id": video["id"], "languages": ["en"], "source_language": "es"}
    answer = api.post("/api/videos/process", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "The speech recognition configured now cannot recognise Spanish (es). Spoken "
        "languages available: en. The speech model tiny.en understands English only; set "
        "REELDOCS_WHISPER_MODEL to a multilingual model such as small."
    )


def test_languages_say_which_ones_the_speech_model_hears(api: httpx.Client) -> None:
    languages = {option["code"]: option for option in api.get("/api/languages").json()}
    assert languages["en"] == {
        "code": "en",
        "label": "English",
        "primary": True,
        "translate": False,
        "spoken": True,
    }
    assert not any(option["spoken"] for code, option in languages.items() if code != "en")


def test_unknown_or_foreign_video_is_404(
    api: httpx.Client, make_user: Callable[..., httpx.Client], video: dict[str, Any]
) -> None:
    with bearer_client(make_user("stranger")) as stranger:
        answer = stranger.post(
            "/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}
        )
    assert answer.status_code == 404
    assert "does not exist" in answer.json()["detail"]


def test_a_second_request_gets_409_with_the_active_job(
    api: httpx.Client, video: dict[str, Any]
) -> None:
    first = api.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]})
    second = api.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]})
    assert second.status_code == 409
    assert second.json()["job_id"] == first.json()["job_id"]
    assert second.json()["detail"].endswith(".")


def test_fifty_concurrent_requests_make_exactly_one_job(
    api: httpx.Client, video: dict[str, Any], db_url: str
) -> None:
    def ask(_: int) -> httpx.Response:
        return api.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]})

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(ask, range(50)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(202) == 1, statuses
    assert statuses.count(409) == 49, statuses
    winner = next(a for a in answers if a.status_code == 202).json()["job_id"]
    assert {a.json()["job_id"] for a in answers if a.status_code == 409} == {winner}
    assert job_rows(db_url, video["id"]) == 1
    assert _engine_jobs(db_url, winner) == 1


def test_a_failing_queue_insert_leaves_no_job_row(
    api: httpx.Client, video: dict[str, Any], db_url: str
) -> None:
    """Break the engine's insert for this video: the job row must roll back with it."""
    trigger = f"refuse_{video['id'].replace('-', '')}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            f"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM processing_jobs
                           WHERE id::text = NEW.args->>'job_id' AND video_id = '{video["id"]}')
                THEN RAISE EXCEPTION 'queue insert refused by the test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER {trigger} BEFORE INSERT ON procrastinate_jobs
                FOR EACH ROW EXECUTE FUNCTION {trigger}();
            """
        )
    try:
        answer = api.post(
            "/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}
        )
        assert answer.status_code == 500
        assert "stack" not in answer.text.lower() and "Traceback" not in answer.text
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"DROP TRIGGER {trigger} ON procrastinate_jobs; DROP FUNCTION {trigger}()")
    assert job_rows(db_url, video["id"]) == 0
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "uploaded"
    # and the video can be processed normally afterwards
    assert (
        api.post(
            "/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}
        ).status_code
        == 202
    )


def test_a_failing_commit_leaves_no_queued_job(
    api: httpx.Client, video: dict[str, Any], db_url: str
) -> None:
    """Fail the transaction at COMMIT, after both inserts: neither may survive."""
    trigger = f"late_{video['id'].replace('-', '')}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            f"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.video_id = '{video["id"]}' THEN
                    RAISE EXCEPTION 'commit refused by the test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE CONSTRAINT TRIGGER {trigger} AFTER INSERT ON processing_jobs
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {trigger}();
            """
        )
    try:
        answer = api.post(
            "/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}
        )
        assert answer.status_code == 500
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"DROP TRIGGER {trigger} ON processing_jobs; DROP FUNCTION {trigger}()")
    assert job_rows(db_url, video["id"]) == 0
    with psycopg.connect(db_url) as conn:
        queued = conn.execute(
            """
            SELECT count(*) FROM procrastinate_jobs
            WHERE args->>'job_id' NOT IN (SELECT id::text FROM processing_jobs)
            """
        ).fetchone()
    assert queued == (0,)


def test_job_reads_support_etag_and_listing(api: httpx.Client, video: dict[str, Any]) -> None:
    job_id = api.post(
        "/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}
    ).json()["job_id"]
    first = api.get(f"/api/jobs/{job_id}")
    etag = first.headers["etag"]
    again = api.get(f"/api/jobs/{job_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    project_id = video["project_id"]
    active = api.get(f"/api/projects/{project_id}/jobs?state=active").json()
    assert [j["id"] for j in active] == [job_id]
    assert active[0]["video_title"] == video["title"]
    assert api.get(f"/api/projects/{project_id}/jobs?limit=101").status_code == 422


def test_cancel_a_pending_job(api: httpx.Client, video: dict[str, Any], db_url: str) -> None:
    job_id = api.post(
        "/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}
    ).json()["job_id"]
    answer = api.post(f"/api/jobs/{job_id}/cancel")
    assert answer.status_code == 202
    assert answer.json() == {"job_id": job_id, "status": "cancelled"}
    assert api.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"
    assert api.get(f"/api/videos/{video['id']}").json()["status"] == "uploaded"
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT status FROM procrastinate_jobs WHERE args->>'job_id' = %s", (job_id,)
        ).fetchone()
    assert row is None or row[0] == "cancelled"  # deleted while todo, or marked cancelled
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 409
    # a cancelled job can be retried; a pending one cannot
    retry = api.post(f"/api/jobs/{job_id}/retry")
    assert retry.status_code == 202
    new_id = retry.json()["job_id"]
    assert api.get(f"/api/jobs/{new_id}").json()["retry_of"] == job_id
    assert api.get(f"/api/jobs/{job_id}").json()["status"] == "retried"
    assert api.post(f"/api/jobs/{new_id}/retry").status_code == 409
    recent = api.get(f"/api/projects/{video['project_id']}/jobs").json()
    assert job_id not in [j["id"] for j in recent]  # retried rows are left out
