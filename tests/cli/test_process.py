"""`reeldocs process` in local mode: real files in, a worker in the command's own
process, the docs folder out. The `workers` fixture starts no worker: it only cancels
jobs other modules left waiting, so the command's worker takes this module's jobs alone."""

from __future__ import annotations

import json
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from support.media_factory import make_slide_video, make_text_file

from tests.cli.running import CLI_TIMEOUT_SECONDS, Reeldocs

pytestmark = pytest.mark.usefixtures("workers")

SLIDES = ["Settings", "Save"]
SPEECH = ["open the settings page", "press save to keep it"]
# Markdown links and images: ](target) with an optional "title".
LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
VTT_CUE_TIMES = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}", re.M)
SRT_CUE_TIMES = re.compile(r"^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$", re.M)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("process-media")


def _video(media: Path, stem: str) -> Path:
    """A tiny spoken slideshow; its file name (so its title) is new to the database."""
    return make_slide_video(
        media / f"{stem}-{secrets.token_hex(3)}.mp4", SLIDES, 2.0, speech=SPEECH
    )


def _front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n"), text[:80]
    header, _, _ = text[4:].partition("\n---\n")
    loaded = yaml.safe_load(header)
    assert isinstance(loaded, dict)
    return loaded


def _assert_links_resolve(folder: Path) -> list[str]:
    """Every relative link and picture of the folder's pages leads to one of its files."""
    checked = []
    for page in folder.rglob("*.md"):
        text = page.read_text()
        assert "[video:" not in text, page
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            assert (page.parent / path).resolve().is_file(), f"{page}: {target} is missing"
            checked.append(target)
    return checked


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
    video = _video(media, "tour")
    out = tmp_path / "docs"
    run = reeldocs("process", str(video), "--languages", "en,es", "--out", str(out))
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert f"{video.name}: completed" in run.stdout

    job = _job_of(db_url, video.stem)
    assert job is not None and job[1] == "completed"
    assert job[3] == "Command line/Command line"
    [folder] = out.iterdir()
    assert (folder / "index.md").is_file()
    assert (folder / "video.mp4").stat().st_size == video.stat().st_size
    for language in ("en", "es"):
        articles = sorted((folder / language).glob("*.md"))
        assert articles and articles[0].name.startswith("01-"), articles
        for position, article in enumerate(articles, start=1):
            matter = _front_matter(article.read_text())
            assert matter["sidebar_position"] == position
            assert isinstance(matter["title"], str) and matter["title"]
            assert isinstance(matter["description"], str)
        vtt = (folder / f"{language}.vtt").read_text()
        assert vtt.startswith("WEBVTT") and VTT_CUE_TIMES.search(vtt), vtt
        srt = (folder / f"{language}.srt").read_text()
        assert srt.startswith("1\n") and SRT_CUE_TIMES.search(srt), srt
    links = _assert_links_resolve(folder)
    assert any(link.startswith("../screenshots/") for link in links), links
    assert any(re.fullmatch(r"\.\./video\.mp4#t=\d+", link) for link in links), links


def test_json_lines_and_a_refused_file(reeldocs: Reeldocs, media: Path, tmp_path: Path) -> None:
    first, second = _video(media, "first"), _video(media, "second")
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
    video = _video(media, "held")
    hold = tmp_path / "hold"
    hold.touch()
    env = {**cli_env, "REELDOCS_TEST_HOLD_AT": "transcribing", "REELDOCS_TEST_HOLD_FILE": str(hold)}
    command = [sys.executable, "-m", "reeldocs.cli", "process", str(video), "--out", str(tmp_path)]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + CLI_TIMEOUT_SECONDS
            while (job := _job_of(db_url, video.stem)) is None or job[2] != "transcribing":
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, job
                time.sleep(0.1)
            assert job[1] == "processing"
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=CLI_TIMEOUT_SECONDS)
        finally:
            hold.unlink(missing_ok=True)
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130, (stdout, stderr)
    assert "cancel" in stderr.lower(), stderr
    final = _job_of(db_url, video.stem)
    assert final is not None and final[1] == "cancelled"
