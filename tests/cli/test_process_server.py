"""`reeldocs process --server` and `reeldocs jobs --server`: the command on a machine
without Reeldocs' database, working through the live server's API as a token's user,
while a real worker (on the server's side) runs the jobs.

The command runs with an empty data directory of its own and no database URL: that the
directory is still empty afterwards shows it opened no database."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support.media_factory import make_text_file

from reeldocs.core.db import DatabaseUrls
from tests.cli.docs_tree import check_docs_folder, spoken_slides
from tests.cli.running import interrupt_when, run_reeldocs
from tests.conftest import free_port, worker_group


@dataclass
class Account:
    client: httpx.Client  # the user's session, for what the test looks at
    token: str
    project: str  # ORG_SLUG/PROJECT_SLUG
    project_id: str


@pytest.fixture(scope="module")
def hold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """While this file exists, the module's worker holds jobs at transcribing."""
    return tmp_path_factory.mktemp("hold") / "hold"


@pytest.fixture(scope="module", autouse=True)
def server_worker(db_urls: DatabaseUrls, hold: Path) -> Iterator[None]:
    with worker_group(
        db_urls,
        start=True,
        REELDOCS_TEST_HOLD_AT="transcribing",
        REELDOCS_TEST_HOLD_FILE=str(hold),
    ):
        yield


@pytest.fixture(scope="module")
def account(make_module_user: Callable[..., httpx.Client]) -> Account:
    client = make_module_user("remote")
    token = client.post("/api/tokens", json={"name": "laptop"}).json()["token"]
    project = client.post("/api/projects", json={"name": "Guides"}).json()
    [team] = [org for org in client.get("/api/orgs").json() if org["id"] == project["org_id"]]
    return Account(client, token, f"{team['slug']}/{project['slug']}", project["id"])


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a machine with no Reeldocs database: an empty data directory."""
    home = tmp_path / "client-data"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "REELDOCS_DATABASE_URL"}
    env["REELDOCS_DATA_DIR"] = str(home)
    yield env
    assert list(home.iterdir()) == [], "the command wrote into its data directory"


def _remote(account: Account, base_url: str) -> list[str]:
    return ["--server", base_url, "--token", account.token]


def test_process_through_the_server_writes_the_export_tree(
    elsewhere: dict[str, str], account: Account, base_url: str, media: Path, tmp_path: Path
) -> None:
    video = spoken_slides(media, "remote-tour")
    out = tmp_path / "docs"
    run = run_reeldocs(
        elsewhere,
        "process",
        str(video),
        "--languages",
        "en,es",
        "--out",
        str(out),
        "--project",
        account.project,
        *_remote(account, base_url),
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert f"{video.name}: Uploading (" in run.stdout
    assert f"{video.name}: completed" in run.stdout
    [folder] = out.iterdir()  # no download left behind
    check_docs_folder(folder, ["en", "es"], video)

    # On the server: the video is in the project, its job completed, and the API's zip
    # holds exactly the folder the command left.
    [uploaded] = [
        v
        for v in account.client.get(f"/api/projects/{account.project_id}/videos").json()
        if v["title"] == video.stem
    ]
    assert folder.name == uploaded["slug"]
    [job] = account.client.get(f"/api/projects/{account.project_id}/jobs").json()[:1]
    assert job["video_id"] == uploaded["id"] and job["status"] == "completed"
    answer = account.client.get(f"/api/videos/{uploaded['id']}/export?video=true")
    assert answer.status_code == 200, answer.text
    with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
        zipped = {name: bundle.read(name) for name in bundle.namelist()}
    written = {
        f"{folder.name}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }
    assert written == zipped


def test_json_lines_a_refused_file_and_the_jobs_commands(
    elsewhere: dict[str, str], account: Account, base_url: str, media: Path, tmp_path: Path
) -> None:
    video = spoken_slides(media, "remote-json")
    notes = make_text_file(media / "remote-notes.mp4")
    out = tmp_path / "docs"
    remote = _remote(account, base_url)
    run = run_reeldocs(
        elsewhere,
        "process",
        str(notes),
        str(video),
        "--json",
        "--no-video",
        "--format",
        "mdx",
        "--out",
        str(out),
        "--project",
        account.project_id,
        *remote,
    )
    assert run.returncode == 1, (run.stdout, run.stderr)
    by_video = {line["video"]: line for line in map(json.loads, run.stdout.splitlines())}
    assert set(by_video) == {str(notes), str(video)}
    refused = by_video[str(notes)]
    assert refused["status"] == "refused" and refused["job_id"] is None
    [error] = run.stderr.splitlines()
    assert error.startswith(f"Error: {notes}: This file is not a video"), error
    done = by_video[str(video)]
    assert done["status"] == "completed", done
    folder = Path(done["out"])
    assert (folder / "index.mdx").is_file() and not list(folder.glob("video.*"))
    page = next((folder / "en").glob("01-*.mdx")).read_text()
    assert f"{base_url}/videos/" in page  # moments link to the app without the video

    listing = run_reeldocs(elsewhere, "jobs", "list", "--project", account.project, *remote)
    assert listing.returncode == 0, listing.stderr
    assert done["job_id"] in listing.stdout and account.project in listing.stdout
    shown = run_reeldocs(elsewhere, "jobs", "show", done["job_id"], "--json", *remote)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "completed"
    # A completed job cannot be cancelled: the server's sentence, exit 1.
    cancel = run_reeldocs(elsewhere, "jobs", "cancel", done["job_id"], *remote)
    assert cancel.returncode == 1, (cancel.stdout, cancel.stderr)
    assert cancel.stderr.startswith("Error: ") and "Traceback" not in cancel.stderr
    # Jobs of every project the token's user sees.
    everything = run_reeldocs(elsewhere, "jobs", "list", "--json", *remote)
    assert done["job_id"] in {json.loads(line)["id"] for line in everything.stdout.splitlines()}


def test_ctrl_c_cancels_the_job_on_the_server_and_a_retry_runs_it(
    elsewhere: dict[str, str], account: Account, base_url: str, media: Path, hold: Path
) -> None:
    video = spoken_slides(media, "remote-held")
    remote = _remote(account, base_url)
    hold.touch()
    args = ["process", str(video), "--out", str(media / "held-out"), "--project", account.project]
    jobs_url = f"/api/projects/{account.project_id}/jobs"
    held: list[dict[str, str]] = []

    def transcribing() -> bool:
        jobs = account.client.get(jobs_url, params={"state": "active"}).json()
        held[:] = [job for job in jobs if job["video_title"] == video.stem]
        return bool(held) and held[0]["step"] == "transcribing"

    try:
        status, stdout, stderr = interrupt_when(elsewhere, [*args, *remote], transcribing)
    finally:
        hold.unlink(missing_ok=True)
    assert status == 130, (stdout, stderr)
    assert f"cancelled the processing of {video.name}" in stderr, stderr
    job_id = held[0]["id"]
    assert account.client.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"

    retried = run_reeldocs(elsewhere, "jobs", "retry", job_id, *remote)
    assert retried.returncode == 0, retried.stderr
    new_id = retried.stdout.split("as job ", 1)[1].split(",", 1)[0]
    uuid.UUID(new_id)
    assert account.client.get(f"/api/jobs/{new_id}").json()["retry_of"] == job_id


def test_mistakes_are_sentences_with_the_right_exit_status(
    elsewhere: dict[str, str], account: Account, base_url: str, media: Path
) -> None:
    video = spoken_slides(media, "remote-mistakes")
    remote = _remote(account, base_url)
    where = ["--project", account.project]
    usage_errors = [
        [*where, "--server", base_url],  # no token
        [*where, "--token", account.token],  # a token without a server
        [*remote],  # no project
        [*where, *remote, "--provider", "offline"],
        [*where, *remote, "--languages", "en,xx"],  # the server translates into no xx
        [*where, "--server", "ftp://example.com", "--token", account.token],
    ]
    for bad in usage_errors:
        usage = run_reeldocs(elsewhere, "process", str(video), *bad)
        assert usage.returncode == 2, (bad, usage.stdout, usage.stderr)
        assert "Traceback" not in usage.stderr

    refusals = {
        "did not accept the token": [*where, "--server", base_url, "--token", "not-a-token"],
        "Could not reach the Reeldocs server": [
            *where,
            "--server",
            f"http://127.0.0.1:{free_port()}",
            "--token",
            account.token,
        ],
        "sees no project": ["--project", "nobody/nothing", *remote],
    }
    for sentence, args in refusals.items():
        refused = run_reeldocs(elsewhere, "process", str(video), *args)
        assert refused.returncode == 1, (args, refused.stdout, refused.stderr)
        assert refused.stderr.startswith("Error: ") and sentence in refused.stderr, refused.stderr
    assert not [
        v
        for v in account.client.get(f"/api/projects/{account.project_id}/videos").json()
        if v["title"] == video.stem
    ], "a refused command sent its video"
