"""Pages of a processed video: player, transcript, exports, safe Markdown, and layout.

One video is processed through the API by a real worker (English, then Spanish and
Catalan: Catalan's code sorts before English's, which pages must not follow); the pages
are then read in a real browser at laptop and phone widths.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from tests.conftest import WorkerProcesses
from tests.pages.conftest import LAPTOP, PHONE, no_horizontal_scroll, screenshot

SLIDES = ["Open the settings", "Invite your team with a long sentence on screen"]
SPEECH = ["open the settings page from the menu", "type the address and press invite"]


@pytest.fixture(scope="module")
def processed(
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    owner = make_module_user("reader")
    api = bearer_client(owner)
    path = make_slide_video(
        tmp_path_factory.mktemp("media") / "settings.mp4", SLIDES, 3.5, speech=SPEECH
    )
    project = create_project(api, "A project with a rather long name to test wrapping on phones")
    video = upload_video(api, project["id"], path, "Inviting your team to the workspace")
    job = wait_for_job(api, process(api, video["id"], ["en", "es", "ca"]), timeout=120)
    assert job["status"] == "completed", job
    yield {"owner": owner, "api": api, "project": project, "video": video, "job": job}
    api.close()


def _settle(page: Page) -> None:
    """Let images and the player's metadata load before measuring or taking a picture."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete)", timeout=10_000, polling=100
    )


def test_video_page_player_tracks_transcript_and_history(
    processed: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = processed["video"]["id"]
    page = open_context(processed["owner"]).new_page()
    page.goto(f"/videos/{video_id}")
    tracks = page.locator("#player track")
    # the primary language first and shown by default, then the others by name
    assert tracks.evaluate_all("ts => ts.map(t => [t.srclang, t.label, t.kind, t.default])") == [
        ["en", "English", "subtitles", True],
        ["ca", "Catalan", "subtitles", False],
        ["es", "Spanish", "subtitles", False],
    ]
    page.wait_for_function(
        "() => document.getElementById('player').readyState >= 1", timeout=15_000
    )
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(7, abs=1)
    # The tracks load: the default one has cues once the browser reads it.
    page.wait_for_function(
        "() => document.getElementById('player').textTracks[0].cues?.length > 0", timeout=10_000
    )

    times = page.locator(".transcript .timestamp")
    assert times.count() >= 2
    last = times.last
    target = float(last.get_attribute("data-seek") or 0)
    assert target > 0
    last.click()
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {target}) < 0.5"
    )

    history = page.locator(".history-item")
    expect(history).to_have_count(1)
    expect(history.first).to_have_attribute("data-status", "completed")
    screenshot(page, "processed-video-page")

    # A shared link with #t= opens the video at that moment.
    page.goto(f"/videos/{video_id}#t=5")
    page.wait_for_function(
        "() => Math.abs(document.getElementById('player').currentTime - 5) < 0.5"
    )


def test_moments_read_the_way_the_player_shows_them(
    processed: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    page = open_context(processed["owner"]).new_page()
    page.goto(f"/videos/{processed['video']['id']}/docs")
    labels = page.locator(".prose a.timestamp").all_inner_texts()
    assert labels and all(re.fullmatch(r"▶ \d:\d\d", label.strip()) for label in labels), labels


def test_export_links_download_real_files(
    processed: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = processed["video"]["id"]
    page = open_context(processed["owner"]).new_page()
    page.goto(f"/videos/{video_id}")
    hrefs = page.locator(".exports a").evaluate_all("links => links.map(a => a.href)")
    # Markdown and MDX, each with and without the video, and VTT + SRT for three languages
    assert len(hrefs) == 10
    owner: httpx.Client = processed["owner"]
    for href in hrefs:
        answer = owner.get(href)
        assert answer.status_code == 200, href
        if "export" in href:
            names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
            extension = ".mdx" if "mdx" in href else ".md"
            folder = f"{processed['video']['slug']}/"
            assert any(n.startswith(f"{folder}es/") and n.endswith(extension) for n in names)
            assert (f"{folder}video.mp4" in names) == ("video=true" in href), names
        elif href.endswith(".vtt") or "subtitles.vtt" in href:
            assert answer.text.startswith("WEBVTT")
        else:
            assert "-->" in answer.text


def test_article_html_is_shown_as_text_never_run(
    processed: dict[str, Any], db_url: str, open_context: Callable[..., BrowserContext]
) -> None:
    api: httpx.Client = processed["api"]
    video_id = processed["video"]["id"]
    article = api.get(f"/api/videos/{video_id}/articles", params={"language": "en"}).json()[0]
    hostile = (
        "Intro <script>window.__ran = 'script'</script> then "
        '<img src="x" onerror="window.__ran = \'img\'"> and '
        "[a link](javascript:window.__ran='link') at [video:00:06].\n\n"
        "<div onclick=\"window.__ran='div'\">raw block</div>\n"
    )
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE articles SET content_markdown = %s WHERE id = %s", (hostile, article["id"])
        )

    page = open_context(processed["owner"]).new_page()
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.goto(f"/videos/{video_id}/docs?language=en")
    prose = page.locator(f"[data-article-id='{article['id']}'] .prose")
    expect(prose).to_contain_text("<script>window.__ran = 'script'</script>")
    expect(prose).to_contain_text("<div onclick=\"window.__ran='div'\">raw block</div>")
    assert prose.locator("script, img[onerror], div[onclick]").count() == 0
    assert prose.locator("a[href^='javascript']").count() == 0
    prose.get_by_text("raw block").click()
    link = prose.locator("a.timestamp")
    expect(link).to_have_attribute("data-seek", "6")
    link.click()
    page.wait_for_function(
        "() => Math.abs(document.getElementById('player').currentTime - 6) < 0.5"
    )
    assert page.evaluate("window.__ran") is None
    assert dialogs == []


def _main_pages(processed: dict[str, Any]) -> dict[str, str]:
    """Screenshot name -> page path."""
    project_id, video_id = processed["project"]["id"], processed["video"]["id"]
    return {
        "dashboard": "/",
        "project": f"/projects/{project_id}",
        "upload": f"/projects/{project_id}/upload",
        "job": f"/projects/{project_id}/jobs/{processed['job']['id']}",
        "video": f"/videos/{video_id}",
        "docs-en": f"/videos/{video_id}/docs?language=en",
        "docs-es": f"/videos/{video_id}/docs?language=es",
        "settings": "/settings",
        "not-found": "/projects/00000000-0000-0000-0000-000000000000",
    }


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_no_horizontal_scrolling(
    size: str, processed: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    viewport = LAPTOP if size == "laptop" else PHONE
    page = open_context(processed["owner"], viewport=viewport).new_page()
    anonymous = open_context(viewport=viewport).new_page()
    overflowing = {}
    visits = [(page, name, path) for name, path in _main_pages(processed).items()] + [
        (anonymous, "login", "/login"),
        (anonymous, "signup", "/signup"),
    ]
    for which, name, path in visits:
        which.goto(path)
        _settle(which)
        scroll_width, inner_width = no_horizontal_scroll(which)
        assert inner_width == viewport["width"]
        if scroll_width > inner_width:
            overflowing[path] = scroll_width
        screenshot(which, f"layout-{size}-{name}")
    assert overflowing == {}
