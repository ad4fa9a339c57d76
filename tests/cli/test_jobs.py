"""`reeldocs jobs` on jobs made through the API. The test run's server runs no worker,
so the jobs stay pending until these commands cancel and retry them."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from tests.cli.running import Reeldocs, rows_of

TITLE = "Tour of the settings page"


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "tour.mp4"
    return make_slide_video(path, ["Settings", "Save"], 1.0)


@dataclass
class Pending:
    """A job waiting for a worker, in a project of its own."""

    api: httpx.Client
    job_id: str
    video_id: str
    project_id: str
    project_ref: str  # ORG_SLUG/PROJECT_SLUG


@pytest.fixture
def pending(user: httpx.Client, small_video: Path) -> Iterator[Pending]:
    api = bearer_client(user)
    [org] = api.get("/api/orgs").json()
    project = create_project(api, "Command line jobs")
    video = upload_video(api, project["id"], small_video, title=TITLE)
    job_id = process(api, video["id"], ["en"])
    yield Pending(api, job_id, video["id"], project["id"], f"{org['slug']}/{project['slug']}")
    # Nothing left waiting for the workers of the tests that follow.
    for job in api.get(f"/api/projects/{project['id']}/jobs", params={"state": "active"}).json():
        assert api.post(f"/api/jobs/{job['id']}/cancel").status_code == 202
    api.close()


def _one_error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 1 and run.stdout == "", (run.stdout, run.stderr)
    [line] = run.stderr.splitlines()
    return line


def _engine_job_waiting(db_url: str, job_id: str) -> bool:
    """Whether the job's engine job is queued for a worker (or running)."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs q JOIN processing_jobs j "
            "ON q.id = j.queue_job_id WHERE j.id = %s AND q.status IN ('todo', 'doing')",
            (job_id,),
        ).fetchone()
    assert row is not None
    return bool(row[0])


def _events(db_url: str, job_id: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT type FROM job_events WHERE job_id = %s ORDER BY created_at", (job_id,)
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_jobs_list_and_show_a_pending_job_as_the_api_shows_it(
    reeldocs: Reeldocs, pending: Pending
) -> None:
    listed = reeldocs("jobs", "list", "--project", pending.project_ref)

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        "ID", "PROJECT", "VIDEO", "STATUS", "STEP", "PROGRESS", "CREATED"
    ]  # fmt: skip
    [row] = rows_of(listed.stdout)
    step = pending.api.get(f"/api/jobs/{pending.job_id}").json()["step"]
    assert row[:6] == [pending.job_id, pending.project_ref, TITLE, "pending", step, "0%"]

    by_id = reeldocs("jobs", "list", "--project", pending.project_id, "--json")

    assert by_id.returncode == 0, by_id.stderr
    [line] = by_id.stdout.splitlines()
    shown_in_list = json.loads(line)
    assert shown_in_list["project"] == pending.project_ref
    everywhere = reeldocs("jobs", "list", "--json")
    assert pending.job_id in [json.loads(line)["id"] for line in everywhere.stdout.splitlines()]

    shown = reeldocs("jobs", "show", pending.job_id, "--json")

    assert shown.returncode == 0, shown.stderr
    [line] = shown.stdout.splitlines()
    from_api = pending.api.get(f"/api/jobs/{pending.job_id}").json()
    assert json.loads(line) == from_api
    assert {**shown_in_list, "project": None} == {**from_api, "project": None}
    assert from_api["language_results"] == {"en": {"status": "pending"}}

    text = reeldocs("jobs", "show", pending.job_id)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["Job:", pending.job_id]
    assert ["Status:", "pending", "(attempt", "1)"] in [line.split() for line in lines]
    assert lines[-2:] == ["Languages:", "  en: pending"]


def test_cancel_then_retry_through_the_job_lifecycle(
    reeldocs: Reeldocs, pending: Pending, db_url: str
) -> None:
    status_before = pending.api.get(f"/api/videos/{pending.video_id}").json()["status"]
    assert status_before == "processing"
    assert _engine_job_waiting(db_url, pending.job_id)

    cancelled = reeldocs("jobs", "cancel", pending.job_id)

    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip() == f"Job {pending.job_id} is cancelled."
    job = pending.api.get(f"/api/jobs/{pending.job_id}").json()
    assert job["status"] == "cancelled" and job["step_message"] == "Cancelled"
    assert pending.api.get(f"/api/videos/{pending.video_id}").json()["status"] != "processing"
    assert not _engine_job_waiting(db_url, pending.job_id)
    assert _events(db_url, pending.job_id) == ["job.cancelled"]
    assert _one_error(reeldocs("jobs", "cancel", pending.job_id)) == (
        "Error: Only pending or processing jobs can be cancelled; this one is cancelled."
    )

    retried = reeldocs("jobs", "retry", pending.job_id)

    assert retried.returncode == 0, retried.stderr
    found = re.fullmatch(
        rf"Job {pending.job_id} is retried as job (\S+), which waits for a worker\.",
        retried.stdout.strip(),
    )
    assert found, retried.stdout
    new_id = found.group(1)
    new = pending.api.get(f"/api/jobs/{new_id}").json()
    assert new["status"] == "pending" and new["retry_of"] == pending.job_id
    assert pending.api.get(f"/api/jobs/{pending.job_id}").json()["status"] == "retried"
    assert pending.api.get(f"/api/videos/{pending.video_id}").json()["status"] == "processing"
    assert _engine_job_waiting(db_url, new_id)
    assert _one_error(reeldocs("jobs", "retry", pending.job_id)) == (
        "Error: Only failed or cancelled jobs can be retried; this one is retried."
    )
    assert _one_error(reeldocs("jobs", "retry", new_id)) == (
        "Error: Only failed or cancelled jobs can be retried; this one is pending."
    )
    # The job a retry took over is left out of the list; the new one is there.
    [row] = rows_of(reeldocs("jobs", "list", "--project", pending.project_ref).stdout)
    assert row[0] == new_id

    assert reeldocs("jobs", "cancel", new_id).returncode == 0
    assert not _engine_job_waiting(db_url, new_id)


def test_unknown_jobs_and_projects_are_one_sentence_and_exit_1(reeldocs: Reeldocs) -> None:
    missing = str(uuid.uuid4())
    for command in ("show", "retry", "cancel"):
        assert _one_error(reeldocs("jobs", command, missing)) == (
            f"Error: There is no job with the id {missing}: `reeldocs jobs list` shows them."
        )
    assert _one_error(reeldocs("jobs", "list", "--project", missing)) == (
        f"Error: There is no project with the id {missing}."
    )
    assert _one_error(reeldocs("jobs", "list", "--project", "no-such-team/demo")) == (
        "Error: There is no team with the slug 'no-such-team': `reeldocs orgs list` shows them."
    )


def test_malformed_ids_and_project_names_are_usage_errors(reeldocs: Reeldocs) -> None:
    for command in ("show", "retry", "cancel"):
        wrong = reeldocs("jobs", command, "42")
        assert wrong.returncode == 2 and "valid UUID" in wrong.stderr
    named = reeldocs("jobs", "list", "--project", "just-a-slug")
    assert named.returncode == 2
    assert "names no project" in named.stderr and "--project" in named.stderr


def test_a_project_without_jobs_says_so(
    reeldocs: Reeldocs, user: httpx.Client, pending: Pending
) -> None:
    empty = create_project(pending.api, "Nothing yet")
    reference = pending.project_ref.split("/")[0] + "/" + empty["slug"]

    listed = reeldocs("jobs", "list", "--project", reference)

    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == f"The project {reference} has no jobs yet."
    assert reeldocs("jobs", "list", "--project", reference, "--json").stdout == ""
