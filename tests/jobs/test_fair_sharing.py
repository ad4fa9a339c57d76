"""Teams take turns: a team's one job waits for at most one job of each other team.

The worker holds each job as it starts (REELDOCS_TEST_HOLD_AT) and a cancel lets it go,
so which job the worker takes next is seen one claim at a time, whatever the machine's
speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from tests.conftest import WorkerProcesses


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slide_video(tmp_path_factory.mktemp("media") / "tiny.mp4", ["One"], 1.0)


@pytest.fixture
def team(make_user: Callable[..., httpx.Client]) -> Iterator[Callable[[], httpx.Client]]:
    clients: list[httpx.Client] = []

    def make() -> httpx.Client:
        client = bearer_client(make_user("team"))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _queue(api: httpx.Client, video: Path, count: int) -> list[str]:
    project = create_project(api, "Backlog")
    videos = [upload_video(api, project["id"], video) for _ in range(count)]
    return [process(api, uploaded["id"], ["en"]) for uploaded in videos]


def _processing(db_url: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT id::text FROM processing_jobs WHERE status = 'processing' ORDER BY started_at"
        ).fetchall()
    return [row[0] for row in rows]


def _wait_processing(db_url: str, count: int, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(found := _processing(db_url)) != count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} jobs processing, not {count}")
        time.sleep(0.1)
    return found


def _messages(db_url: str, job_ids: list[str]) -> list[str]:
    with psycopg.connect(db_url) as conn:
        by_id = dict(
            conn.execute(
                "SELECT id::text, step_message FROM processing_jobs WHERE id::text = ANY(%s)",
                (job_ids,),
            ).fetchall()
        )
    return [by_id[job_id] for job_id in job_ids]


def test_a_team_with_one_job_goes_second_after_a_backlog(
    team: Callable[[], httpx.Client],
    workers: WorkerProcesses,
    db_url: str,
    tiny_video: Path,
    tmp_path: Path,
) -> None:
    first_team, second_team = team(), team()
    backlog = _queue(first_team, tiny_video, 10)
    (single,) = _queue(second_team, tiny_video, 1)
    hold = tmp_path / "hold"
    hold.touch()
    workers.start(REELDOCS_TEST_HOLD_AT="uploading", REELDOCS_TEST_HOLD_FILE=str(hold))
    started = _wait_processing(db_url, 1)
    assert started == [backlog[0]]
    assert first_team.post(f"/api/jobs/{backlog[0]}/cancel").status_code == 202
    deadline = time.monotonic() + 60
    while _processing(db_url) in ([], [backlog[0]]):
        assert time.monotonic() < deadline, "the worker took no second job"
        time.sleep(0.1)
    assert _processing(db_url) == [single]
    assert second_team.post(f"/api/jobs/{single}/cancel").status_code == 202
    assert _wait_processing(db_url, 1) == [backlog[1]]


def test_a_capped_team_waits_while_another_team_runs(
    team: Callable[[], httpx.Client],
    workers: WorkerProcesses,
    db_url: str,
    tiny_video: Path,
    tmp_path: Path,
) -> None:
    capped, other = team(), team()
    mine = _queue(capped, tiny_video, 3)
    hold = tmp_path / "hold"
    hold.touch()
    workers.start(
        concurrency=2,
        REELDOCS_ORG_MAX_ACTIVE_JOBS="1",
        REELDOCS_TEST_HOLD_AT="uploading",
        REELDOCS_TEST_HOLD_FILE=str(hold),
    )
    assert _wait_processing(db_url, 1) == [mine[0]]
    deadline = time.monotonic() + 30
    expected = ["Waiting: your team has 1 job ahead", "Waiting: your team has 2 jobs ahead"]
    while _messages(db_url, mine[1:]) != expected:
        assert time.monotonic() < deadline, _messages(db_url, mine[1:])
        time.sleep(0.1)
    card = capped.get(f"/api/jobs/{mine[1]}").json()
    assert card["status"] == "pending" and card["step_message"] == expected[0]
    (theirs,) = _queue(other, tiny_video, 1)
    assert _wait_processing(db_url, 2) == [mine[0], theirs]
    assert capped.post(f"/api/jobs/{mine[0]}/cancel").status_code == 202
    deadline = time.monotonic() + 30
    while set(_processing(db_url)) != {theirs, mine[1]}:
        assert time.monotonic() < deadline, _processing(db_url)
        time.sleep(0.1)
    while _messages(db_url, mine[2:]) != ["Waiting: your team has 1 job ahead"]:
        assert time.monotonic() < deadline, _messages(db_url, mine[2:])
        time.sleep(0.1)
