"""A project's docs site in a real browser: the owner publishes it from the project's page,
then someone with no session reads it, follows a moment, switches language, searches,
and finds everything gone once the video is unpublished and the docs made private.

The video is processed by a real worker into English and Spanish (Apertium); the pages
are read at phone and laptop widths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import PRODUCT_TOUR, make_titled_slide_video

from tests.conftest import WorkerProcesses
from tests.pages.conftest import LAPTOP, PHONE, no_horizontal_scroll, screenshot

SLIDES = PRODUCT_TOUR[1:4]


@pytest.fixture(scope="module")
def processed(
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    owner = make_module_user("publisher")
    api = bearer_client(owner)
    path: Path = make_titled_slide_video(
        tmp_path_factory.mktemp("media") / "tour.mp4", SLIDES, 3.0, (640, 360), fps=10
    ).path
    project = create_project(api, "Acme handbook")
    video = upload_video(api, project["id"], path, "Getting started")
    job = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=240)
    assert job["status"] == "completed", job
    english = api.get(f"/api/videos/{video['id']}/articles", params={"language": "en"}).json()
    spanish = api.get(f"/api/videos/{video['id']}/articles", params={"language": "es"}).json()
    yield {
        "owner": owner,
        "project": project,
        "video": video,
        "english": english,
        "spanish": spanish,
    }
    api.close()


def _settle(page: Page) -> None:
    """Let the images in view load (those further down load as they come into view)."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete || i.loading === 'lazy')",
        timeout=10_000,
        polling=100,
    )


def _player_at(page: Page, seconds: float) -> None:
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {seconds}) < 1.5",
        timeout=15_000,
    )


def test_publish_read_switch_language_search_then_unpublish(
    processed: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    english, spanish = processed["english"], processed["spanish"]
    title = processed["video"]["title"]

    # The owner opens the docs to anyone and publishes the video, from the project's page.
    owner = open_context(processed["owner"]).new_page()
    owner.goto(f"/projects/{processed['project']['id']}")
    card = owner.locator("#site-card")
    expect(card).to_contain_text("Private")
    site_url = card.locator(".site-url a").get_attribute("href") or ""
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/p/[a-z0-9-]+/acme-handbook/", site_url)
    card.get_by_role("button", name="Make the docs public").click()
    expect(card.get_by_role("button", name="Make the docs private")).to_be_visible()
    expect(card).to_contain_text("Public")
    videos = owner.locator("#videos-list")
    videos.get_by_role("button", name=f"Publish {title}").click()
    expect(videos.get_by_role("button", name=f"Unpublish {title}")).to_be_focused()
    expect(videos.locator(".badge", has_text="Published")).to_be_visible()

    # Someone with no session reads it.
    reader = open_context().new_page()
    reader.goto(site_url)
    expect(reader.get_by_role("heading", level=1)).to_have_text("Acme handbook")
    for article in english:
        expect(reader.get_by_role("link", name=article["title"]).first).to_be_visible()
    reader.locator(".chapter-list").get_by_role("link", name=english[1]["title"]).click()
    expect(reader.get_by_role("heading", level=1)).to_have_text(english[1]["title"])
    prose = reader.locator(".doc-article .prose")
    expect(prose).to_contain_text("Drag the video file onto the page")
    _settle(reader)
    assert reader.evaluate(
        "() => [...document.querySelectorAll('.prose img')].every(i => i.naturalWidth > 0)"
    )
    expect(reader.locator("nav.pager a[rel=next]")).to_contain_text(english[2]["title"])
    expect(reader.locator("nav.pager a[rel=prev]")).to_contain_text(english[0]["title"])

    # A moment in the text seeks the page's player, and the address names it.
    moment = prose.locator("a[data-seek]").last
    seconds = float(moment.get_attribute("data-seek") or 0)
    assert seconds > 0
    moment.click()
    _player_at(reader, seconds)
    assert reader.url.endswith(f"#t={int(seconds)}")
    reader.evaluate("() => document.getElementById('player').pause()")

    # The language switcher keeps the chapter and the moment.
    reader.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text(spanish[1]["title"])
    assert re.search(rf"/es/{processed['video']['slug']}/{spanish[1]['slug']}#t=\d+$", reader.url)
    expect(reader.locator("article.doc-article")).to_have_attribute("lang", "es")
    _player_at(reader, seconds)

    # Search in Spanish, then in English, by words of the articles' text.
    reader.get_by_role("searchbox", name="Search the docs").fill("miembros")
    reader.get_by_role("button", name="Search").click()
    results = reader.locator(".results")
    expect(results.get_by_role("link")).to_have_text([spanish[2]["title"]])
    reader.get_by_role("navigation", name="Language").get_by_role("link", name="English").click()
    expect(reader.get_by_role("searchbox", name="Search the docs")).to_have_value("miembros")
    reader.get_by_role("searchbox", name="Search the docs").fill("members")
    reader.get_by_role("searchbox", name="Search the docs").press("Enter")
    expect(reader.locator(".results-count")).to_have_text("1 article in English for “members”.")
    expect(results.locator("mark").first).to_have_text(re.compile("^members$", re.IGNORECASE))
    results.get_by_role("link", name=english[2]["title"]).click()
    expect(reader.get_by_role("heading", level=1)).to_have_text(english[2]["title"])
    expect(reader.locator(".prose")).to_contain_text("Open the Members tab")
    article_url = reader.url

    # Unpublished, the video's pages are the site's 404; private, the site is too.
    videos.get_by_role("button", name=f"Unpublish {title}").click()
    expect(videos.get_by_role("button", name=f"Publish {title}")).to_be_visible()
    later = open_context().new_page()
    for address in (article_url, site_url + f"en/{processed['video']['slug']}/"):
        answer = later.goto(address)
        assert answer is not None and answer.status == 404
        expect(later.get_by_role("heading", level=1)).to_have_text("Page not found")
    later.goto(site_url)
    expect(later.locator("main")).to_contain_text("Nothing is published here yet.")
    card.get_by_role("button", name="Make the docs private").click()
    expect(card.get_by_role("button", name="Make the docs public")).to_be_visible()
    answer = open_context().new_page().goto(site_url)
    assert answer is not None and answer.status == 404
    # The owner, a member, still previews it.
    owner.goto(site_url)
    expect(owner.locator(".preview-banner")).to_contain_text("These docs are private")
    expect(owner.locator(".video-card")).to_contain_text("Not published")


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_site_reads_at_phone_and_laptop_widths(
    size: str, processed: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    owner = processed["owner"]
    project, video = processed["project"], processed["video"]
    owner.patch(f"/api/projects/{project['id']}", json={"public_docs": True})
    owner.patch(f"/api/videos/{video['id']}", json={"published": True})
    site = httpx.URL(project["public_url"]).path
    viewport = LAPTOP if size == "laptop" else PHONE
    page = open_context(viewport=viewport).new_page()
    pages = {
        "home": site,
        "video": f"{site}es/{video['slug']}/",
        "article": f"{site}en/{video['slug']}/{processed['english'][0]['slug']}",
        "search": f"{site}search?q=project&lang=en",
    }
    overflowing = {}
    for name, path in pages.items():
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        _settle(page)
        width, inner = no_horizontal_scroll(page)
        if width > inner:
            overflowing[name] = (width, inner)
        screenshot(page, f"site-{name}-{size}")
    assert overflowing == {}
    # On a laptop the chapters sit beside the text; on a phone, after it.
    page.goto(pages["article"])
    nav = page.locator("#site-nav").bounding_box()
    main = page.locator("#content").bounding_box()
    assert nav and main
    if size == "laptop":
        assert nav["x"] + nav["width"] <= main["x"]
    else:
        assert nav["y"] >= main["y"] + main["height"]
        expect(page.get_by_role("link", name="Contents")).to_be_visible()
