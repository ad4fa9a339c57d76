"""Editing the docs in a real browser: an article's editor with its live preview and the
player's moment, a save refused because another tab saved first, restoring a revision,
correcting the transcript (the player's subtitles follow), and what a viewer sees.

One video is processed into English docs with a Spanish translation by a real worker;
every check of what was saved reads the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from tests.auth.accounts import email_of, join_team, org_id_of
from tests.conftest import WorkerProcesses
from tests.pages.conftest import screenshot

SLIDES = ["Welcome to Acme", "Create a project", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "open settings and invite your team by email",
]

PLAYER = "document.getElementById('player')"


@pytest.fixture(scope="module")
def site(
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    owner = make_module_user("writer")
    viewer = make_module_user("reader")
    api = bearer_client(owner)
    join_team(api, org_id_of(owner), viewer, "viewer")
    path = make_slide_video(
        tmp_path_factory.mktemp("media") / "acme.mp4", SLIDES, 4.0, speech=SPEECH
    )
    project = create_project(api, "Editing handbook")
    video = upload_video(api, project["id"], path, "Acme tour")
    job = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=300)
    assert job["status"] == "completed", job
    yield {"owner": owner, "viewer": viewer, "api": api, "project": project, "video": video}
    api.close()


def _articles(site: dict[str, Any], language: str = "en") -> list[dict[str, Any]]:
    answer = site["api"].get(f"/api/videos/{site['video']['id']}/articles?language={language}")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def _article(site: dict[str, Any], article_id: str) -> dict[str, Any]:
    answer = site["api"].get(f"/api/articles/{article_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _card(page: Page, article_id: str) -> Locator:
    return page.locator(f"article[data-article-id='{article_id}']")


def _open_docs(page: Page, site: dict[str, Any], language: str = "en") -> None:
    page.goto(f"/videos/{site['video']['id']}/docs?language={language}")
    page.wait_for_function(f"() => {PLAYER}.readyState >= 1", timeout=15_000)


def _open_editor(page: Page, article_id: str) -> Locator:
    card = _card(page, article_id)
    card.get_by_role("link", name="Edit", exact=True).click()
    expect(card.get_by_label("Text, in Markdown")).to_be_visible()
    return card


def _seek_player(page: Page, seconds: float) -> None:
    page.evaluate(f"() => {{ {PLAYER}.pause(); {PLAYER}.currentTime = {seconds}; }}")
    page.wait_for_function(
        f"() => !{PLAYER}.seeking && Math.abs({PLAYER}.currentTime - {seconds}) < 0.01"
    )


def test_edit_an_article_with_its_preview_and_the_players_moment(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    article = _articles(site)[0]
    page = open_context(site["owner"]).new_page()
    _open_docs(page, site)
    shown = _card(page, article["id"]).locator(".prose").inner_html()
    card = _open_editor(page, article["id"])
    text = card.get_by_label("Text, in Markdown")
    title = card.get_by_label("Title")
    preview = card.locator(".preview")
    expect(text).to_have_value(article["content_markdown"])
    expect(title).to_have_value(article["title"])
    # the editor opens with the article as the viewer showed it
    assert preview.inner_html() == shown

    # The preview follows the text, rendered by the viewer's renderer: raw HTML is text.
    typed = "# Getting started\n\nOpen the **Settings** page.\n\n<b>not bold</b>\n"
    text.fill(typed)
    expect(preview.locator("strong")).to_have_text("Settings")
    expect(preview).to_contain_text("<b>not bold</b>")
    # its heading is nested below the article's, as in the viewer
    heading_tag = preview.locator("h1, h2, h3, h4, h5, h6").first.evaluate("h => h.tagName")
    article_tag = card.locator("header :is(h2, h3)").first.evaluate("h => h.tagName")
    assert int(heading_tag[1]) == int(article_tag[1]) + 1

    # The player's moment goes in where the cursor is.
    _seek_player(page, 5)
    cursor = typed.index("Open")
    text.evaluate(f"t => {{ t.focus(); t.setSelectionRange({cursor}, {cursor}); }}")
    card.get_by_role("button", name="Insert the player's moment").click()
    expected = typed[:cursor] + "[video:00:05]" + typed[cursor:]
    expect(text).to_have_value(expected)
    moment = preview.locator("a.timestamp")
    expect(moment).to_have_text("▶ 0:05")
    expect(moment).to_have_attribute("data-seek", "5")

    # A moment in the preview seeks the player on the page.
    _seek_player(page, 0)
    page.evaluate(
        f"() => {{ window.seekedTo = []; {PLAYER}.addEventListener('seeked', "
        f"() => window.seekedTo.push({PLAYER}.currentTime)); }}"
    )
    moment.click()
    page.wait_for_function("() => window.seekedTo.some(t => Math.abs(t - 5) < 0.25)")
    page.evaluate(f"() => {PLAYER}.pause()")
    assert page.url.endswith("/docs?language=en")  # the page stayed

    title.fill("Getting started with Acme")
    previewed = preview.inner_html()
    screenshot(page, "article-editor")
    opened = site["api"].get(f"/api/articles/{article['id']}").headers["ETag"]
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/edit")) as sent:
        card.get_by_role("button", name="Save").click()
    assert sent.value.headers["if-match"] == opened

    # The article is back in the viewer, its text what the preview showed; focus is on it.
    expect(card.get_by_label("Text, in Markdown")).to_have_count(0)
    expect(card.locator("header :is(h2, h3)")).to_have_text("Getting started with Acme")
    expect(card.locator("header :is(h2, h3)")).to_be_focused()
    assert card.locator(".prose").inner_html() == previewed
    saved = _article(site, article["id"])
    assert saved["content_markdown"] == expected
    assert saved["title"] == "Getting started with Acme"
    assert saved["edited"] is True
    revisions = site["api"].get(f"/api/articles/{article['id']}/revisions").json()
    assert [(r["source"], r["author_email"]) for r in revisions] == [
        ("edited", email_of(site["owner"])),
        ("generated", None),
    ]
    # the chapters' list follows the new title
    expect(page.locator(".toc")).to_contain_text("Getting started with Acme")


def test_a_save_from_a_second_tab_shows_both_versions(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    article = _articles(site)[1]
    context = open_context(site["owner"])
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        _open_docs(page, site)
    mine = _open_editor(first, article["id"])
    theirs = _open_editor(second, article["id"])

    their_text = article["content_markdown"] + "\nA line the second tab added.\n"
    theirs.get_by_label("Text, in Markdown").fill(their_text)
    theirs.get_by_role("button", name="Save").click()
    expect(theirs.get_by_label("Text, in Markdown")).to_have_count(0)
    assert _article(site, article["id"])["content_markdown"] == their_text

    my_text = "A different text, written in the first tab.\n"
    mine.get_by_label("Text, in Markdown").fill(my_text)
    mine.get_by_role("button", name="Save").click()

    # Nothing is overwritten: both versions side by side, and a choice.
    expect(mine.get_by_role("alert")).to_contain_text("after you opened it")
    their_side = mine.locator("[data-version=theirs] pre")
    my_side = mine.locator("[data-version=yours] pre")
    expect(their_side).to_be_visible()
    assert their_side.text_content() == their_text
    assert my_side.text_content() == my_text
    expect(mine.locator(".diff-added")).to_have_count(1)
    expect(mine.locator(".diff-added")).to_contain_text(my_text.strip())
    assert _article(site, article["id"])["content_markdown"] == their_text
    screenshot(first, "article-conflict")

    # Choosing mine saves it over theirs, on purpose.
    mine.get_by_role("button", name="Save mine instead").click()
    expect(mine.locator(".prose")).to_contain_text("written in the first tab")
    assert _article(site, article["id"])["content_markdown"] == my_text
    revisions = site["api"].get(f"/api/articles/{article['id']}/revisions").json()
    assert [r["source"] for r in revisions] == ["edited", "edited", "generated"]


def test_a_refused_save_keeps_the_draft_and_says_why(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    article = _articles(site)[2]
    page = open_context(site["owner"]).new_page()
    _open_docs(page, site)
    card = _open_editor(page, article["id"])
    card.get_by_label("Title").fill("   ")
    card.get_by_label("Text, in Markdown").fill("A draft worth keeping.\n")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("alert")).to_have_text(
        "An article needs a title: write a few words saying what it explains."
    )
    expect(card.get_by_label("Text, in Markdown")).to_have_value("A draft worth keeping.\n")
    expect(card.locator(".preview")).to_have_text("A draft worth keeping.")
    expect(page.locator("#flash")).to_be_empty()
    assert _article(site, article["id"]) == article


def test_restore_a_revision(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    article = _articles(site)[2]
    url = f"/api/articles/{article['id']}"
    changed = site["api"].patch(url, json={"content_markdown": "Replaced by hand.\n"})
    assert changed.status_code == 200, changed.text
    page = open_context(site["owner"]).new_page()
    _open_docs(page, site)
    card = _card(page, article["id"])
    expect(card.locator(".prose")).to_have_text("Replaced by hand.")
    card.get_by_role("link", name="History").click()

    rows = page.locator("tr[data-revision]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Edited")
    expect(rows.nth(0)).to_contain_text(email_of(site["owner"]))
    expect(rows.nth(0)).to_contain_text("Current")
    expect(rows.nth(1)).to_contain_text("Generated")
    rows.nth(1).get_by_role("link", name="Revision 1").click()

    # The comparison with the current text: what restoring would take out and put back.
    expect(page.locator(".diff-removed")).to_contain_text("Replaced by hand.")
    first_line = article["content_markdown"].splitlines()[0]
    expect(page.locator(".diff-added").first).to_contain_text(first_line.strip())
    page.get_by_role("button", name="Restore revision 1").click()

    expect(page).to_have_url(
        re.compile(rf"/videos/{site['video']['id']}/docs\?language=en#article-{article['slug']}$")
    )
    expect(_card(page, article["id"]).locator(".prose")).not_to_contain_text("Replaced by hand.")
    assert _article(site, article["id"])["content_markdown"] == article["content_markdown"]
    sources = [r["source"] for r in site["api"].get(f"{url}/revisions").json()]
    assert sources == ["restored", "edited", "generated"]


def _showing_cues(page: Page) -> str:
    return (
        f"[...{PLAYER}.textTracks].filter(t => t.mode === 'showing')"
        ".flatMap(t => [...(t.cues || [])].map(c => c.text)).join(' ')"
    )


def test_correct_a_segment_and_the_subtitles_follow(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = site["video"]["id"]
    segments = site["api"].get(f"/api/videos/{video_id}/segments").json()
    first = segments[0]
    page = open_context(site["owner"]).new_page()
    page.goto(f"/videos/{video_id}")
    page.wait_for_function(f"() => {_showing_cues(page)}.length > 0", timeout=15_000)
    assert "zanzibar" not in page.evaluate(f"() => {_showing_cues(page)}")

    line = page.locator(f"li[data-segment-id='{first['id']}']")
    line.get_by_role("link", name=re.compile(r"^Edit the words at \d+:\d\d$")).click()
    field = line.get_by_label("What is said from")
    expect(field).to_have_value(first["spoken_content"])
    expect(field).to_be_focused()
    field.fill("welcome to the zanzibar product tour")
    line.get_by_role("button", name="Save").click()

    expect(line.locator(".segment-text")).to_contain_text("welcome to the zanzibar product tour")
    expect(line.locator(".badge")).to_have_text("Corrected")
    # The player loaded its subtitles again: the corrected words are among its cues.
    page.wait_for_function(f"() => {_showing_cues(page)}.includes('zanzibar')", timeout=15_000)
    vtt = site["api"].get(f"/api/videos/{video_id}/subtitles.vtt?language=en").text
    assert "zanzibar" in vtt
    saved = site["api"].get(f"/api/videos/{video_id}/segments").json()[0]
    assert (saved["spoken_content"], saved["edited"]) == (
        "welcome to the zanzibar product tour",
        True,
    )

    # The Spanish docs were made from the words before: the viewer says so.
    page.goto(f"/videos/{video_id}/docs?language=es")
    expect(page.locator(".stale-card")).to_contain_text("Out-of-date translation")
    assert page.locator(".stale-note").count() == len(_articles(site, "es"))


def test_editing_works_without_javascript(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = site["video"]["id"]
    article = _articles(site)[2]
    page = open_context(site["owner"], javascript=False).new_page()
    page.goto(f"/videos/{video_id}/docs?language=en")
    card = _card(page, article["id"])
    card.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_url(re.compile(rf"[?&]edit={article['id']}#article-{article['slug']}$"))
    text = card.get_by_label("Text, in Markdown")
    # the player's moment needs the script: without it the button is not offered
    expect(card.get_by_role("button", name="Insert the player's moment")).to_be_hidden()

    text.fill("Written *without* scripts. [video:00:09]\n")
    card.get_by_role("button", name="Update the preview").click()
    expect(card.locator(".preview em")).to_have_text("without")
    expect(card.locator(".preview a.timestamp")).to_have_attribute("data-seek", "9")
    card.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/docs\?language=en#article-{article['slug']}$"))
    expect(card.locator(".prose em")).to_have_text("without")
    saved = _article(site, article["id"])
    assert saved["content_markdown"] == "Written *without* scripts. [video:00:09]\n"

    segment = site["api"].get(f"/api/videos/{video_id}/segments").json()[-1]
    page.goto(f"/videos/{video_id}")
    line = page.locator(f"li[data-segment-id='{segment['id']}']")
    line.get_by_role("link", name=re.compile(r"^Edit the words at")).click()
    line.get_by_label("What is said from").fill("open settings and invite your crew by email")
    line.get_by_role("button", name="Save").click()
    expect(line.locator(".segment-text")).to_contain_text("invite your crew")
    vtt = site["api"].get(f"/api/videos/{video_id}/subtitles.vtt?language=en").text
    assert "crew" in vtt


def test_a_viewer_sees_no_edit_controls(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = site["video"]["id"]
    article = _articles(site)[0]
    # a change to the English text leaves its Spanish translation out of date
    changed = site["api"].patch(
        f"/api/articles/{article['id']}",
        json={"content_markdown": article["content_markdown"] + "\nOne more line.\n"},
    )
    assert changed.status_code == 200, changed.text
    page = open_context(site["viewer"]).new_page()
    for language in ("en", "es"):
        page.goto(f"/videos/{video_id}/docs?language={language}")
        expect(page.locator("article.article").first).to_be_visible()
        expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
        expect(page.locator("textarea, .proposal, form[action*='retranslate']")).to_have_count(0)
        expect(page.get_by_role("link", name="History").first).to_be_visible()
    # (the Spanish page, last:) out of date, said to a viewer too, with nothing to press
    expect(page.locator(".stale-card")).to_contain_text("Out-of-date translation")
    expect(page.locator(".stale-card button")).to_have_count(0)

    page.goto(f"/articles/{article['id']}/revisions/1")
    expect(page.locator(".diff")).to_be_visible()
    expect(page.get_by_role("button", name="Restore revision 1")).to_have_count(0)

    page.goto(f"/videos/{video_id}")
    expect(page.locator(".transcript .segment").first).to_be_visible()
    expect(page.locator(".transcript a, .transcript button").filter(has_text="Edit")).to_have_count(
        0
    )

    for path in (
        f"/articles/{article['id']}/edit",
        f"/videos/{video_id}/docs?edit={article['id']}",
    ):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path
        expect(page.locator("h1")).to_have_text("You cannot do this")


def test_an_out_of_date_translation_is_translated_again_by_a_job(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = site["video"]["id"]
    english = _articles(site)[1]
    changed = site["api"].patch(
        f"/api/articles/{english['id']}",
        json={"content_markdown": "Click New project, then type a name for it.\n"},
    )
    assert changed.status_code == 200, changed.text
    assert any(a["stale"] for a in _articles(site, "es"))

    page = open_context(site["owner"]).new_page()
    page.goto(f"/videos/{video_id}/docs?language=es")
    page.get_by_role("button", name="Translate into Spanish again").click()

    # The job's page, as for any job: its own steps only, then completed.
    expect(page).to_have_url(re.compile(r"/projects/[0-9a-f-]{36}/jobs/[0-9a-f-]{36}$"))
    card = page.locator("#job-card")
    expect(card.locator(".step")).to_have_count(3)
    expect(card.locator(".step").first).to_contain_text("Translating to Spanish")
    expect(card).to_have_attribute("data-status", "completed", timeout=120_000)

    spanish = _articles(site, "es")
    assert not any(a["stale"] for a in spanish)
    page.goto(f"/videos/{video_id}/docs?language=es")
    expect(page.locator("article.article").first).to_be_visible()
    expect(page.locator(".stale-card, .stale-note")).to_have_count(0)
