"""`reeldocs process` in local mode: real files in, a worker in the command's own
process, the docs folder out. The `workers` fixture starts no worker: it only cancels
jobs other modules left waiting, so the command's worker takes this module's jobs alone."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from support.media_factory import make_text_file

from tests.cli.docs_tree import check_docs_folder, spoken_slides
from tests.cli.running import Reeldocs, interrupt_when

pytestmark = pytest.mark.usefixtures("workers")


def _job_of(db_url: str, title: str) -> tuple[str, str, str, str] | None:
    """The job, status, step and project/team names of the video with this title."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT j.id::text, j.status, j.step, p.name || '/' || o.name FROM processing_jobs j "
            "JOIN videos v ON v.id = j.video_id JOIN projects p ON p.id = v.project_id "
            "JOIN organizations o ON o.id = p.org_id WHERE v.title = %s",
            (title,),
        ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def test_writes_the_docs_tree(reeldocs: Reeldocs, media: Path, tmp_path: Path, db_url: str) -> None:
    video = spoken_slides(media, "tour")
    out = tmp_path / "docs"
    run = reeldocs("process", str(video), "--languages", "en,es", "--out", str(out))
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert f"{video.name}: completed" in run.stdout

    job = _job_of(db_url, video.stem)
    assert job is not None and job[1] == "completed"
    assert job[3] == "Command line/Command line"
    [folder] = out.iterdir()
    check_docs_folder(folder, ["en", "es"], video)


def test_json_lines_and_a_refused_file(reeldocs: Reeldocs, media: Path, tmp_path: Path) -> None:
    first, second = spoken_slides(media, "first"), spoken_slides(media, "second")
    notes = make_text_file(media / "notes.mp4")
    out = tmp_path / "docs"
    run = reeldocs("process", str(first), str(notes), str(second), "--json", "--out", str(out))
    assert run.returncode == 1, (run.stdout, run.stderr)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    by_video = {line["video"]: line for line in lines}
    assert len(lines) == 3 and set(by_video) == {str(first), str(notes), str(second)}
    for done in (first, second):
        line = by_video[str(done)]
        assert line["status"] == "completed" and line["error"] is None, line
        assert (Path(line["out"]) / "index.md").is_file()
        assert line["language_results"]["en"]["status"] != "failed"
    refused = by_video[str(notes)]
    assert refused["status"] == "refused" and refused["job_id"] is None
    [error] = run.stderr.splitlines()
    assert error.startswith(f"Error: {notes}: This file is not a video"), error
    assert error.endswith(".") and refused["error"] in error


def test_missing_file_and_bad_options(reeldocs: Reeldocs, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mp4"
    run = reeldocs("process", str(missing), "--out", str(tmp_path / "out"))
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert run.stderr == f"Error: {missing}: There is no such file: check the path and try again.\n"
    assert not (tmp_path / "out").exists()
    elsewhere = reeldocs("process", str(missing), "--project", "no-such-team/docs")
    assert elsewhere.returncode == 1, (elsewhere.stdout, elsewhere.stderr)
    assert elsewhere.stderr.startswith("Error: There is no team with the slug 'no-such-team'")
    # The run has no Gemini key: asking for Gemini is a usage error, said before any work.
    usage_errors = [
        ["--languages", "en,,es"],
        ["--languages", "xx"],
        ["--format", "html"],
        ["--provider", "gemini"],
    ]
    for bad in usage_errors:
        usage = reeldocs("process", str(missing), *bad)
        assert usage.returncode == 2, (bad, usage.stderr)
        assert "Traceback" not in usage.stderr


def test_ctrl_c_cancels_the_running_job(
    cli_env: dict[str, str], media: Path, tmp_path: Path, db_url: str
) -> None:
    video = spoken_slides(media, "held")
    hold = tmp_path / "hold"
    hold.touch()
    env = {**cli_env, "REELDOCS_TEST_HOLD_AT": "transcribing", "REELDOCS_TEST_HOLD_FILE": str(hold)}
    args = ["process", str(video), "--out", str(tmp_path)]

    def transcribing() -> bool:
        job = _job_of(db_url, video.stem)
        return job is not None and job[2] == "transcribing" and job[1] == "processing"

    try:
        status, stdout, stderr = interrupt_when(env, args, transcribing)
    finally:
        hold.unlink(missing_ok=True)
    assert status == 130, (stdout, stderr)
    assert "cancel" in stderr.lower(), stderr
    final = _job_of(db_url, video.stem)
    assert final is not None and final[1] == "cancelled"
