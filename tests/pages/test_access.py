"""Who may do what on the pages: viewers read but change nothing; outsiders see 404s.

No worker runs here: one job is cancelled (so it can be retried), one stays pending
(so it can be cancelled) until the module ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from reeldocs.core.settings import Settings
from tests.auth.accounts import join_team, org_id_of
from tests.pages.conftest import csrf_header, screenshot


@pytest.fixture(scope="module")
def team(
    make_module_user: Callable[..., httpx.Client], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    owner = make_module_user("owner")
    viewer = make_module_user("viewer")
    outsider = make_module_user("outsider")
    api = bearer_client(owner)
    join_team(api, org_id_of(owner), viewer, "viewer")
    clip = make_slide_video(tmp_path_factory.mktemp("media") / "clip.mp4", ["One"], 1.0)
    project = create_project(api, "Shared handbook")
    stopped_video = upload_video(api, project["id"], clip, "Stopped clip")
    stopped_job = process(api, stopped_video["id"], ["en"])
    assert api.post(f"/api/jobs/{stopped_job}/cancel").status_code == 202
    waiting_video = upload_video(api, project["id"], clip, "Waiting clip")
    waiting_job = process(api, waiting_video["id"], ["en"])
    yield {
        "owner": owner,
        "viewer": viewer,
        "outsider": outsider,
        "api": api,
        "clip": clip,
        "project": project,
        "stopped_video": stopped_video,
        "stopped_job": stopped_job,
        "waiting_video": waiting_video,
        "waiting_job": waiting_job,
    }
    api.post(f"/api/jobs/{waiting_job}/cancel")
    api.close()


def test_viewer_sees_jobs_and_videos_but_no_controls(
    team: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    url = f"/projects/{team['project']['id']}"
    owner_page = open_context(team["owner"]).new_page()
    owner_page.goto(url)
    # What the viewer must not get, the owner does get on the same page.
    expect(owner_page.get_by_role("link", name="Upload video")).to_be_visible()
    expect(owner_page.locator("#jobs-card").get_by_role("button", name="Retry")).to_have_count(1)
    expect(owner_page.locator("#jobs-card").get_by_role("button", name="Cancel")).to_have_count(1)
    expect(owner_page.locator(".video-item summary", has_text="Process")).to_have_count(1)

    page = open_context(team["viewer"]).new_page()
    page.goto(url)
    jobs_card = page.locator("#jobs-card")
    expect(jobs_card.locator(".job")).to_have_count(2)
    expect(page.locator(".video-item")).to_have_count(2)
    expect(page.get_by_role("link", name="Upload video")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.locator(".video-item summary", has_text="Process")).to_have_count(0)
    screenshot(page, "access-viewer-project")

    page.goto(f"/projects/{team['project']['id']}/jobs/{team['stopped_job']}")
    expect(page.locator("#job-card")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_role("button")).to_have_count(1)  # only "Log out"

    answer = page.goto(f"{url}/upload")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", name="You cannot do this")).to_be_visible()


def test_viewer_changes_are_refused_with_403(team: dict[str, Any], settings: Settings) -> None:
    viewer: httpx.Client = team["viewer"]
    headers = csrf_header(viewer, settings.secret_key)
    project_id = team["project"]["id"]
    page_actions = [
        (f"/jobs/{team['stopped_job']}/retry", {"card": "project"}),
        (f"/jobs/{team['waiting_job']}/cancel", {"card": "job"}),
        (
            f"/projects/{project_id}/videos/{team['stopped_video']['id']}/process",
            {"languages": "en"},
        ),
    ]
    for path, form in page_actions:
        answer = viewer.post(path, data=form, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
        assert "viewer" in answer.text
        htmx = viewer.post(path, data=form, headers=headers | {"HX-Request": "true"})
        assert htmx.status_code == 403 and "<html" not in htmx.text

    with open(team["clip"], "rb") as handle:
        upload = viewer.post(
            f"/api/projects/{project_id}/videos",
            files={"file": ("clip.mp4", handle, "video/mp4")},
            headers=headers,
        )
    assert upload.status_code == 403
    _assert_jobs_untouched(team)


def _assert_jobs_untouched(team: dict[str, Any]) -> None:
    api: httpx.Client = team["api"]
    assert api.get(f"/api/jobs/{team['stopped_job']}").json()["status"] == "cancelled"
    assert api.get(f"/api/jobs/{team['waiting_job']}").json()["status"] == "pending"


def test_viewer_job_changes_through_the_api_are_refused_with_403(team: dict[str, Any]) -> None:
    viewer: httpx.Client = team["viewer"]
    api_actions = [
        ("/api/videos/process", {"video_id": team["stopped_video"]["id"], "languages": ["en"]}),
        (f"/api/jobs/{team['stopped_job']}/retry", {}),
        (f"/api/jobs/{team['waiting_job']}/cancel", {}),
    ]
    statuses = {path: viewer.post(path, json=body).status_code for path, body in api_actions}
    _assert_jobs_untouched(team)
    assert set(statuses.values()) == {403}, statuses


def test_outsiders_get_404_pages(
    team: dict[str, Any], settings: Settings, open_context: Callable[..., BrowserContext]
) -> None:
    outsider: httpx.Client = team["outsider"]
    project_id, video_id = team["project"]["id"], team["waiting_video"]["id"]
    job_id = team["waiting_job"]
    pages = [
        f"/projects/{project_id}",
        f"/projects/{project_id}/upload",
        f"/projects/{project_id}/glossary",
        f"/projects/{project_id}/jobs/{job_id}",
        f"/projects/{project_id}/jobs/{job_id}/card",
        f"/projects/{project_id}/jobs/card",
        f"/projects/{project_id}/jobs/watch",
        f"/videos/{video_id}",
        f"/videos/{video_id}/docs",
    ]
    for path in pages:
        answer = outsider.get(path)
        assert answer.status_code == 404, path
        assert "does not exist" in answer.text
    headers = csrf_header(outsider, settings.secret_key)
    for path in (f"/jobs/{job_id}/cancel", f"/jobs/{team['stopped_job']}/retry"):
        assert outsider.post(path, data={}, headers=headers).status_code == 404, path
    assert team["api"].get(f"/api/jobs/{job_id}").json()["status"] == "pending"

    page = open_context(outsider).new_page()
    shown = page.goto(f"/videos/{video_id}")
    assert shown is not None and shown.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator(".topbar")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your projects")).to_be_visible()
    screenshot(page, "access-outsider-404")
