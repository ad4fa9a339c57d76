"""Every page renders as a full page, and as a bare fragment when htmx asks (HX-Request).

Also the polling contract of the two job cards, the log-in redirect, and the forms'
CSRF rules. No worker runs here: jobs created in this module stay pending until the
module cancels them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from reeldocs.core.settings import Settings
from tests.pages.conftest import csrf_header

HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def owner(make_module_user: Callable[..., httpx.Client]) -> httpx.Client:
    return make_module_user("owner")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slide_video(tmp_path_factory.mktemp("media") / "short.mp4", ["One", "Two"], 1.0)


@pytest.fixture(scope="module")
def api(owner: httpx.Client) -> Iterator[httpx.Client]:
    """The same user through an API token, for the set-up the pages do not do."""
    client = bearer_client(owner)
    yield client
    client.close()


@pytest.fixture(scope="module")
def world(api: httpx.Client, clip: Path) -> Iterator[dict[str, Any]]:
    project = create_project(api, "Render modes")
    video = upload_video(api, project["id"], clip, "Short clip")
    job_id = process(api, video["id"], ["en"])
    yield {"project": project, "video": video, "job_id": job_id}
    # Leave nothing queued for the workers of later tests.
    api.post(f"/api/jobs/{job_id}/cancel")


def _pages(world: dict[str, Any]) -> dict[str, str]:
    """Page path -> text its content must show, in both modes."""
    project_id, video_id = world["project"]["id"], world["video"]["id"]
    return {
        "/": "Your projects",
        "/settings": "API tokens",
        f"/projects/{project_id}": "Processing Jobs",
        f"/projects/{project_id}/upload": "Upload &amp; generate docs",
        f"/projects/{project_id}/jobs/{world['job_id']}": "Short clip",
        f"/videos/{video_id}": "Transcript",
        f"/videos/{video_id}/docs": "no documentation yet",
        f"/projects/{uuid.uuid4()}": "Page not found",
    }


def _assert_full(html: str, expected: str) -> None:
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<html" in html and 'class="topbar"' in html and "htmx.min.js" in html
    assert expected in html


def _assert_fragment(html: str, expected: str) -> None:
    for layout_part in ("<!doctype", "<html", "<head", "<body", 'class="topbar"'):
        assert layout_part not in html.lower(), layout_part
    assert expected in html


def test_each_page_full_and_as_fragment(owner: httpx.Client, world: dict[str, Any]) -> None:
    for path, expected in _pages(world).items():
        full = owner.get(path)
        fragment = owner.get(path, headers=HX)
        expected_status = 404 if "not found" in expected else 200
        assert full.status_code == fragment.status_code == expected_status, path
        assert full.headers["content-type"].startswith("text/html")
        assert "HX-Request" in full.headers["vary"]
        _assert_full(full.text, expected)
        _assert_fragment(fragment.text, expected)


def test_anonymous_pages_full_and_as_fragment(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as anonymous:
        for path, expected in {"/login": "Log in", "/signup": "Create your account"}.items():
            _assert_full(anonymous.get(path).text, expected)
            _assert_fragment(anonymous.get(path, headers=HX).text, expected)


def test_pages_send_people_to_log_in_and_back(base_url: str, world: dict[str, Any]) -> None:
    path = f"/projects/{world['project']['id']}"
    with httpx.Client(base_url=base_url) as anonymous:
        answer = anonymous.get(path + "?tab=1")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}%3Ftab%3D1"
        htmx = anonymous.get(path, headers=HX)
        assert htmx.status_code == 401
        assert htmx.headers["hx-redirect"] == f"/login?next={path}"
        assert anonymous.get("/api/projects").status_code == 401  # the API still answers JSON


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_log_in_form_needs_its_token_and_redirects_to_next(
    base_url: str, owner: httpx.Client
) -> None:
    with httpx.Client(base_url=base_url) as browser:
        token = _form_token(browser.get("/login").text)
        credentials = {"email": owner.email, "password": "correct horse battery"}  # type: ignore[attr-defined]
        refused = browser.post("/login", data=credentials | {"next": "/settings"})
        assert refused.status_code == 403
        assert "expired" in refused.text
        wrong = browser.post(
            "/login", data=credentials | {"password": "wrong password", "csrf_token": token}
        )
        assert wrong.status_code == 401
        assert "do not match an account" in wrong.text
        answer = browser.post(
            "/login", data=credentials | {"csrf_token": token, "next": "//evil.example/x"}
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"  # only paths on this site
        assert browser.get("/settings").status_code == 200


def test_cookie_form_posts_need_the_csrf_token(
    owner: httpx.Client, settings: Settings, world: dict[str, Any]
) -> None:
    refused = owner.post("/projects", data={"name": "No token"})
    assert refused.status_code == 403
    assert "security token" in refused.text
    created = owner.post(
        "/projects", data={"name": "With token"}, headers=csrf_header(owner, settings.secret_key)
    )
    assert created.status_code == 303
    assert re.fullmatch(r"/projects/[0-9a-f-]{36}", created.headers["location"])


def test_job_card_polls_while_active_and_stops_with_286(
    owner: httpx.Client, api: httpx.Client, world: dict[str, Any], settings: Settings, clip: Path
) -> None:
    project_id, job_id = world["project"]["id"], world["job_id"]
    card = owner.get(f"/projects/{project_id}/jobs/{job_id}/card", headers=HX)
    assert card.status_code == 200
    assert 'hx-trigger="every 2s"' in card.text and 'data-status="pending"' in card.text
    # no worker has it yet: the card says so, and no step is "in progress"
    assert 'data-step="uploading" data-state="queued"' in card.text
    assert "waiting for a worker" in card.text and "in progress" not in card.text
    overview = owner.get(f"/projects/{project_id}/jobs/card", headers=HX)
    assert overview.status_code == 200 and 'data-polling="fast"' in overview.text

    other = upload_video(api, project_id, clip, "Second clip")
    second = process(api, other["id"], ["en"])
    cancelled = owner.post(
        f"/jobs/{second}/cancel",
        data={"card": "job"},
        headers=HX | csrf_header(owner, settings.secret_key),
    )
    assert cancelled.status_code == 286  # the card it answers with polls no more
    assert 'data-status="cancelled"' in cancelled.text and "every 2s" not in cancelled.text
    assert ">Retry</button>" in cancelled.text
    assert owner.get(f"/projects/{project_id}/jobs/{second}/card", headers=HX).status_code == 286


def test_idle_project_card_checks_cheaply_and_wakes_on_a_new_job(
    owner: httpx.Client, api: httpx.Client, clip: Path
) -> None:
    project = create_project(api, "Idle card")
    page = owner.get(f"/projects/{project['id']}").text
    assert 'data-polling="idle"' in page and 'hx-trigger="every 10s"' in page
    watch = re.search(r'hx-get="(/projects/[^"]+/jobs/watch[^"]*)"', page)
    assert watch
    watch_url = watch.group(1).replace("&amp;", "&")
    quiet = owner.get(watch_url, headers=HX)
    assert quiet.status_code == 204 and quiet.content == b""

    video = upload_video(api, project["id"], clip, "Started elsewhere")
    job_id = process(api, video["id"], ["en"])
    try:
        woke = owner.get(watch_url, headers=HX)
        assert woke.status_code == 200
        assert f'data-job-id="{job_id}"' in woke.text and 'data-polling="fast"' in woke.text
        # The videos list comes along out of band, since a video's status changed.
        assert re.search(r'<section id="videos-list"[^>]*hx-swap-oob="true"', woke.text)
    finally:
        api.post(f"/api/jobs/{job_id}/cancel")
    done = owner.get(f"/projects/{project['id']}/jobs/card", headers=HX)
    assert done.status_code == 286 and 'data-polling="idle"' in done.text


def test_failed_job_shows_its_sentence_step_languages_and_retry(
    owner: httpx.Client, api: httpx.Client, clip: Path, db_url: str
) -> None:
    project = create_project(api, "Failures")
    video = upload_video(api, project["id"], clip, "Broken clip")
    job_id = process(api, video["id"], ["en", "es"])
    # Cancelled first, so that no worker of a later test picks its queued task up.
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    sentence = "The speech recognition stopped: the audio track could not be read."
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE processing_jobs SET status = 'failed', step = 'generating_docs', "
            "failed_step = 'transcribing', error_message = %s, language_results = %s "
            "WHERE id = %s",
            (
                sentence,
                Jsonb({"es": {"status": "failed", "detail": "Apertium is not installed."}}),
                job_id,
            ),
        )
    card = owner.get(f"/projects/{project['id']}/jobs/{job_id}/card", headers=HX)
    assert card.status_code == 286
    assert sentence in card.text
    assert re.search(r'data-step="transcribing" data-state="failed"', card.text)
    assert re.search(r'data-step="uploading" data-state="done"', card.text)
    assert 'class="failed-step">Extracting content<' in card.text
    assert "<strong>Spanish</strong> translation failed: Apertium is not installed." in card.text
    assert f'hx-post="/jobs/{job_id}/retry"' in card.text

    overview = owner.get(f"/projects/{project['id']}").text
    assert sentence in overview and "Failed step:" in overview
    assert "<strong>Spanish</strong> translation failed" in overview
    assert f'action="/jobs/{job_id}/retry"' in overview
