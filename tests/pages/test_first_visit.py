"""What a first-time visitor and a person with an unprocessed video see."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import BrowserContext, expect
from support.api import bearer_client, create_project, upload_video
from support.media_factory import make_slide_video

from tests.pages.conftest import screenshot


@pytest.fixture
def api(make_user: Callable[..., httpx.Client]) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    owner = make_user("first-visit")
    client = bearer_client(owner)
    yield owner, client
    client.close()


def test_the_front_door_says_what_reeldocs_is_and_nothing_is_missing(
    open_context: Callable[..., BrowserContext],
) -> None:
    page = open_context().new_page()
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator(".intro")).to_contain_text(
        "turns product and tutorial videos into documentation"
    )
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and page.request.get(icon).ok
    assert page.request.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
    page.goto("/signup")
    expect(page.locator(".intro")).to_be_visible()
    assert missing == []  # the favicon and every asset were found
    screenshot(page, "first-visit-signup")


def test_an_uploaded_video_can_be_processed_from_its_page(
    api: tuple[httpx.Client, httpx.Client],
    open_context: Callable[..., BrowserContext],
    tmp_path: Path,
) -> None:
    owner, client = api
    project = create_project(client, "Unprocessed")
    clip = make_slide_video(tmp_path / "clip.mp4", ["One"], 1.0)
    video = upload_video(client, project["id"], clip, "Waiting clip")
    page = open_context(owner).new_page()
    page.goto(f"/videos/{video['id']}")
    card = page.locator(".process-card")
    expect(card).to_contain_text("uploaded but has no docs yet")
    expect(card.locator(".chip", has_text="English").locator("input")).to_be_checked()
    card.get_by_role("button", name="Generate docs").click()
    # on to the job's own page, where its card follows it
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/jobs/[0-9a-f-]+$"))
    expect(page.locator("#job-card")).to_contain_text("Waiting clip")
    job_id = page.locator("#job-card").get_attribute("data-job-id")
    assert client.get(f"/api/jobs/{job_id}").json()["languages"] == ["en"]
    client.post(f"/api/jobs/{job_id}/cancel")  # no worker here: leave nothing queued


def test_the_transcript_shows_what_is_on_screen_once_per_scene(
    api: tuple[httpx.Client, httpx.Client],
    open_context: Callable[..., BrowserContext],
    tmp_path: Path,
    db_url: str,
) -> None:
    owner, client = api
    project = create_project(client, "Transcript")
    clip = make_slide_video(tmp_path / "clip.mp4", ["One"], 1.0)
    video = upload_video(client, project["id"], clip, "Three sentences, two scenes")
    scene_one = "Scene 1 of 2 (0:00–0:04): Open the settings"
    scene_two = "Scene 2 of 2 (0:04–0:08): Invite your team"
    rows = [
        (0.0, 1.5, "Open the settings.", scene_one),
        (1.5, 3.5, "Then choose the members tab.", scene_one),
        (4.0, 6.0, "Invite your team.", scene_two),
    ]
    with psycopg.connect(db_url) as conn:  # a processed run, as a job would leave it
        run = conn.execute("SELECT gen_random_uuid()").fetchone()[0]  # type: ignore[index]
        org = conn.execute("SELECT org_id FROM videos WHERE id = %s", (video["id"],)).fetchone()
        for order, (start, end, said, shown) in enumerate(rows):
            conn.execute(
                'INSERT INTO video_segments (org_id, video_id, run_id, "order", start_time, '
                "end_time, spoken_content, visual_context, words) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '[]')",
                (org[0], video["id"], run, order, start, end, said, shown),  # type: ignore[index]
            )
        conn.execute(
            "UPDATE videos SET docs_run_id = %s, status = 'ready' WHERE id = %s", (run, video["id"])
        )
    page = open_context(owner).new_page()
    page.goto(f"/videos/{video['id']}")
    segments = page.locator(".transcript .segment")
    expect(segments).to_have_count(3)
    assert page.locator(".transcript .on-screen").all_inner_texts() == [
        f"On screen: {scene_one}",
        f"On screen: {scene_two}",
    ]
    # times read the way the player shows them
    assert page.locator(".transcript .timestamp").all_inner_texts() == ["0:00", "0:01", "0:04"]
