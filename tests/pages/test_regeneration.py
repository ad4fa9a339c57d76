"""Processing a video again keeps what a person wrote, as the docs viewer shows it.

A real worker processes a video; one article is edited in the browser, the text of the
others is made to differ from what the pipeline writes (as an older run's would); the
video is processed again. The edited article keeps its text byte for byte, the new run's
text for it appears as a diff to accept or reject, and the other articles show the new
run's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import BrowserContext, expect
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from tests.conftest import WorkerProcesses
from tests.pages.conftest import screenshot

SLIDES = ["Welcome to Acme", "Create a project", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "open settings and invite your team by email",
]
# What a person writes: characters beyond ASCII, a hard line break (two trailing spaces),
# a moment of the video; none of it may change on the way.
EDITED_TITLE = "Creating a project"
EDITED_TEXT = (
    "Press **New project** — the café menu ✓  \n"
    "then type its name.\n"
    "\n"
    "[video:00:05] It appears in the list at once.\n"
)
OLDER_TEXT = "Text from an older run of the pipeline.\n"


@pytest.fixture(scope="module")
def site(
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    owner = make_module_user("regenerator")
    api = bearer_client(owner)
    path = make_slide_video(
        tmp_path_factory.mktemp("media") / "acme.mp4", SLIDES, 4.0, speech=SPEECH
    )
    project = create_project(api, "Regenerated handbook")
    video = upload_video(api, project["id"], path, "Acme tour")
    job = wait_for_job(api, process(api, video["id"], ["en"]), timeout=300)
    assert job["status"] == "completed", job
    yield {"owner": owner, "api": api, "video": video}
    api.close()


def _articles(api: httpx.Client, video_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/videos/{video_id}/articles?language=en")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_regenerating_keeps_the_edited_article_and_offers_the_new_text(
    site: dict[str, Any], open_context: Callable[..., BrowserContext], db_url: str
) -> None:
    api, video_id = site["api"], site["video"]["id"]
    before = _articles(api, video_id)
    assert len(before) == 3
    edited, others = before[1], [before[0], before[2]]

    page = open_context(site["owner"]).new_page()
    page.goto(f"/videos/{video_id}/docs?language=en")
    card = page.locator(f"article[data-article-id='{edited['id']}']")
    card.get_by_role("link", name="Edit", exact=True).click()
    card.get_by_label("Title").fill(EDITED_TITLE)
    card.get_by_label("Text, in Markdown").fill(EDITED_TEXT)
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_label("Text, in Markdown")).to_have_count(0)
    assert api.get(f"/api/articles/{edited['id']}").json()["content_markdown"] == EDITED_TEXT

    # The unedited articles say something the pipeline never writes, so that the page can
    # only show the pipeline's words for them if the new run replaced them.
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE articles SET content_markdown = %s WHERE id = ANY(%s::uuid[])",
            (OLDER_TEXT, [a["id"] for a in others]),
        )

    again = wait_for_job(api, process(api, video_id, ["en"]), timeout=300)
    assert again["status"] == "completed", again

    after = _articles(api, video_id)
    kept = next(a for a in after if a["id"] == edited["id"])
    assert (kept["title"], kept["content_markdown"]) == (EDITED_TITLE, EDITED_TEXT)
    assert kept["edited"] and kept["has_proposal"]
    proposal = api.get(f"/api/articles/{edited['id']}/proposal").json()
    assert proposal["job_id"] == again["id"]
    replaced = [a for a in after if a["id"] != edited["id"]]
    assert len(replaced) == 2
    for article in replaced:
        assert article["content_markdown"] != OLDER_TEXT
        generated = api.get(f"/api/articles/{article['id']}/revisions/1").json()
        assert generated["source"] == "generated"
        assert article["content_markdown"] == generated["content_markdown"]

    # The page: the person's text as it was, the new run's as a diff below it.
    page.goto(f"/videos/{video_id}/docs?language=en")
    expect(page.locator(".prose").filter(has_text=OLDER_TEXT.strip())).to_have_count(0)
    for article in replaced:
        spoken = next(
            line for line in article["content_markdown"].splitlines() if line.startswith("[video:")
        )
        expect(page.locator(f"article[data-article-id='{article['id']}'] .prose")).to_contain_text(
            re.sub(r"^\[video:[\d:]+\]\s*", "", spoken)
        )
    card = page.locator(f"article[data-article-id='{edited['id']}']")
    expect(card.locator(".prose")).to_contain_text("the café menu ✓")
    offer = card.locator(".proposal")
    expect(offer).to_contain_text("New text from a later run")
    expect(offer.locator(".diff-removed").filter(has_text="then type its name.")).to_have_count(1)
    new_lines = [line for line in proposal["content_markdown"].splitlines() if line.strip()]
    added = offer.locator(".diff-added").all_inner_texts()
    assert any(new_lines[-1] in text for text in added), (new_lines, added)
    expect(offer).to_contain_text(f"Title: {EDITED_TITLE} → {proposal['title']}")
    screenshot(page, "article-proposal")

    offer.get_by_role("button", name="Accept the new text").click()
    expect(card.locator(".proposal")).to_have_count(0)
    expect(card.locator(".prose")).not_to_contain_text("the café menu")
    accepted = api.get(f"/api/articles/{edited['id']}").json()
    assert (accepted["title"], accepted["content_markdown"]) == (
        proposal["title"],
        proposal["content_markdown"],
    )
    assert accepted["has_proposal"] is False
    sources = [r["source"] for r in api.get(f"/api/articles/{edited['id']}/revisions").json()]
    assert sources == ["accepted", "edited", "generated"]
