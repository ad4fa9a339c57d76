"""Keyboard and screen reader use of the pages, page weight, and axe-core on every main page.

One video is processed in English and Spanish by a real worker; then the worker is held
at the start of a job's first step (its test hold) so that the live job card and the
project's jobs list can be looked at for as long as a test needs. Refreshes are counted
from htmx's own events, never waited for by the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect
from support.api import bearer_client, create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls
from tests.conftest import WorkerProcesses, worker_group

SLIDES = ["Open the settings", "Invite your team"]
SPEECH = ["open the settings page from the menu", "type the address and press invite"]
HELD_STEP = "uploading"
# Headings an article may bring, deeper than the page around them expects.
EXTRA_HEADINGS = "\n\n## Steps\n\nOpen the menu.\n\n#### In detail\n\nPress invite.\n"

# Counts the polled refreshes of one card that htmx has finished settling.
COUNT_REFRESHES = """(selector) => {
    window.refreshes = 0;
    document.body.addEventListener('htmx:afterSettle', (event) => {
        const path = event.detail.pathInfo && event.detail.pathInfo.requestPath || '';
        if (path.includes('/card')) window.refreshes += 1;
    });
}"""


@pytest.fixture(scope="module")
def hold_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("hold") / "hold"
    yield path
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def held_worker(db_urls: DatabaseUrls, hold_file: Path) -> Iterator[WorkerProcesses]:
    with worker_group(
        db_urls,
        start=True,
        REELDOCS_TEST_HOLD_AT=HELD_STEP,
        REELDOCS_TEST_HOLD_FILE=str(hold_file),
    ) as group:
        yield group
        hold_file.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "settings.mp4"
    return make_slide_video(path, SLIDES, 3.5, speech=SPEECH)


@pytest.fixture(scope="module")
def site(
    make_module_user: Callable[..., httpx.Client],
    held_worker: WorkerProcesses,
    hold_file: Path,
    clip: Path,
    db_url: str,
) -> Iterator[dict[str, Any]]:
    """A video with docs in English and Spanish, then a job held at its first step."""
    owner = make_module_user("a11y")
    api = bearer_client(owner)
    project = create_project(api, "Handbook")
    video = upload_video(api, project["id"], clip, "Inviting your team")
    done = wait_for_job(api, process(api, video["id"], ["en", "es"]), timeout=180)
    assert done["status"] == "completed", done
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE articles SET content_markdown = content_markdown || %s "
            "WHERE video_id = %s AND status = 'published'",
            (EXTRA_HEADINGS, video["id"]),
        )

    hold_file.touch()
    waiting = upload_video(api, project["id"], clip, "Held video")
    held = process(api, waiting["id"], ["en", "es"])
    wait_for_job(
        api, held, until=lambda job: job["step"] == HELD_STEP and job["status"] == "processing"
    )
    yield {
        "owner": owner,
        "api": api,
        "project": project,
        "video": video,
        "done": done,
        "held": held,
    }
    for job in api.get(f"/api/projects/{project['id']}/jobs").json():
        if job["status"] in ("pending", "processing"):
            api.post(f"/api/jobs/{job['id']}/cancel")
    api.close()


def _move_job(db_url: str, job_id: str, step: str, progress: float) -> None:
    """What the worker writes as the job goes on, written here while the worker is held."""
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "UPDATE processing_jobs SET step = %s, step_message = %s, progress = %s WHERE id = %s",
            (step, f"Working on {step}", progress, job_id),
        )


def _refreshed(page: Page, more_than: int) -> int:
    page.wait_for_function(f"() => window.refreshes > {more_than}", timeout=15_000)
    count: int = page.evaluate("window.refreshes")
    return count


def _focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_the_live_job_card_keeps_focus_and_announces_steps_not_percents(
    site: dict[str, Any], db_url: str, open_context: Callable[..., BrowserContext]
) -> None:
    project, job_id = site["project"], site["held"]
    page = open_context(site["owner"]).new_page()
    page.goto(f"/projects/{project['id']}/jobs/{job_id}")
    card = page.locator("#job-card")
    cancel = card.get_by_role("button", name="Cancel")
    region = card.get_by_role("status")
    page.evaluate(COUNT_REFRESHES)
    cancel.focus()
    seen = _refreshed(page, 0)
    expect(cancel).to_be_focused()
    assert _focused_id(page) == "job-card-action"

    expect(region).to_have_text("Step 1 of 6: Uploading video.")
    # the live region is marked, to tell it is the same node after a refresh
    page.evaluate("document.getElementById('job-card-announcement').marked = true")

    # Only the percentage moves: the card changes, and the live region says nothing new.
    _move_job(db_url, job_id, HELD_STEP, 0.03)
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "3")
    seen = _refreshed(page, seen)
    expect(region).to_have_text("Step 1 of 6: Uploading video.")
    expect(cancel).to_be_focused()

    # The step changes: the same live region now says which one.
    _move_job(db_url, job_id, "transcribing", 0.1)
    expect(region).to_have_text("Step 2 of 6: Extracting content.")
    assert page.evaluate("document.getElementById('job-card-announcement').marked") is True
    expect(card).to_have_attribute("data-step", "transcribing")
    expect(cancel).to_be_focused()


def test_the_projects_jobs_list_keeps_focus_on_a_job_link_and_its_cancel_button(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    project, job_id = site["project"], site["held"]
    page = open_context(site["owner"]).new_page()
    page.goto(f"/projects/{project['id']}")
    row = page.locator(f"#jobs-card [data-job-id='{job_id}']")
    expect(row).to_have_attribute("data-status", "processing")
    page.evaluate(COUNT_REFRESHES)
    link = row.get_by_role("link", name="Held video")
    link.focus()
    seen = _refreshed(page, 0)
    expect(link).to_be_focused()
    assert _focused_id(page) == f"job-{job_id}-link"
    cancel = row.get_by_role("button", name="Cancel")
    cancel.focus()
    _refreshed(page, seen)
    expect(cancel).to_be_focused()
    # (at the step the test of the job card left it)
    expect(row.get_by_role("status")).to_have_text(
        re.compile(r"^Held video: Step [12] of 6: (Uploading video|Extracting content)\.$")
    )


def _tab_through(page: Page, stops: int) -> list[dict[str, Any]]:
    """Press Tab `stops` times; what had focus each time, with its ring and background."""
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                """() => {
                const focused = document.activeElement;
                const chip = focused.closest('.chip');
                const ringed = chip || focused;
                const style = getComputedStyle(ringed);
                const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
                let behind = ringed.parentElement, background = [255, 255, 255];
                while (behind) {
                    const colour = rgb(getComputedStyle(behind).backgroundColor);
                    if (colour.length === 3 || (colour.length === 4 && colour[3] > 0)) {
                        background = colour.slice(0, 3);
                        break;
                    }
                    behind = behind.parentElement;
                }
                return {
                    id: focused.id, tag: focused.tagName,
                    text: focused.textContent.trim().slice(0, 40),
                    outline: rgb(style.outlineColor).slice(0, 3), style: style.outlineStyle,
                    width: parseFloat(style.outlineWidth), background: background,
                };
            }"""
            )
        )
    return seen


def _luminance(rgb: list[float]) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: list[float], b: list[float]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_upload_form_by_keyboard_then_focus_on_the_new_jobs_progress(
    site: dict[str, Any], clip: Path, open_context: Callable[..., BrowserContext]
) -> None:
    page = open_context(site["owner"]).new_page()
    page.goto(f"/projects/{site['project']['id']}/upload")

    # Every tab stop of the form: the file input is none of them, the drop area is a
    # named button, and each focus ring stands out 3:1 from what is around it.
    stops = _tab_through(page, 14)
    assert "video-file" not in [stop["id"] for stop in stops]
    page.evaluate("document.getElementById('video-file').focus()")
    assert _focused_id(page) != "video-file"
    low = [
        (
            stop["text"],
            stop["outline"],
            stop["background"],
            round(contrast(stop["outline"], stop["background"]), 2),
        )
        for stop in stops
        if stop["style"] == "none" or contrast(stop["outline"], stop["background"]) < 3
    ]
    assert low == []
    assert any(stop["tag"] == "INPUT" for stop in stops)

    # The drop area opens the file picker from the keyboard, as a button does. The picker
    # is counted rather than shown: headless Chromium does not always show a second one.
    drop = page.get_by_role("button", name=re.compile(r"^Drop a video here or choose a file"))
    page.evaluate(
        """() => {
            window.pickers = 0;
            document.getElementById('video-file').click = () => { window.pickers += 1; };
        }"""
    )
    drop.focus()
    page.keyboard.press(" ")
    page.keyboard.press("Enter")
    assert page.evaluate("window.pickers") == 2
    page.locator("#video-file").set_input_files(str(clip))
    expect(page.get_by_role("status").filter(has_text="settings.mp4")).to_be_visible()

    # The primary language's badge is part of its checkbox's name.
    expect(page.get_by_role("checkbox", name="English primary")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Spanish", exact=True)).not_to_be_checked()

    page.get_by_role("button", name="Upload & generate docs").click()
    heading = page.locator("#job-card-heading")
    expect(heading).to_be_focused(timeout=30_000)
    expect(heading).to_have_text("settings")
    expect(page.locator("#job-card").get_by_role("status")).to_have_text(
        re.compile(r"^(Waiting for a worker to start|Step 1 of \d+: Uploading video)\.$")
    )


def test_focus_rings_stand_out_on_the_project_page(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    page = open_context(site["owner"]).new_page()
    page.goto(f"/projects/{site['project']['id']}")
    stops = _tab_through(page, 12)
    assert {stop["tag"] for stop in stops} >= {"A", "BUTTON"}
    for stop in stops:
        assert stop["style"] != "none" and stop["width"] >= 2, stop
        assert contrast(stop["outline"], stop["background"]) >= 3, stop


def _heading_levels(page: Page) -> list[int]:
    levels: list[int] = page.locator("h1, h2, h3, h4, h5, h6").evaluate_all(
        "els => els.map(e => Number(e.tagName[1]))"
    )
    return levels


def test_docs_pages_images_languages_and_headings(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    video_id = site["video"]["id"]
    page = open_context(site["owner"]).new_page()
    for path in (
        f"/videos/{video_id}",
        f"/videos/{video_id}/docs?language=en",
        f"/videos/{video_id}/docs?language=es",
    ):
        page.goto(path)
        levels = _heading_levels(page)
        assert levels[0] == 1 and levels.count(1) == 1, (path, levels)
        skips = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
        assert skips == [], (path, levels)
        if "/docs" in path:
            assert 5 in levels or 4 in levels, levels  # the article's own headings are there

    # Spanish docs: every Spanish title on the page is inside lang="es".
    articles = site["api"].get(f"/api/videos/{video_id}/articles", params={"language": "es"}).json()
    titles = {a["title"] for a in articles} | {a["chapter_title"] for a in articles}
    placed = page.evaluate(
        """(titles) => {
            const found = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const text = walker.currentNode.textContent.trim();
                if (titles.includes(text)) {
                    const holder = walker.currentNode.parentElement.closest('[lang]');
                    found.push([text, holder.getAttribute('lang')]);
                }
            }
            return found;
        }""",
        sorted(titles),
    )
    assert {text for text, _ in placed} == titles
    assert len(placed) >= 2 * len(articles)  # in the chapters' list and above the articles
    assert [pair for pair in placed if pair[1] != "es"] == []

    # Screenshots keep their room before they load; only the first loads at once.
    images = page.locator(".prose img")
    assert images.count() >= 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('.prose img')].every(i => i.complete)"
    )
    shown = images.evaluate_all(
        """els => els.map(i => [i.getAttribute('width'), i.getAttribute('height'),
                              i.naturalWidth, i.naturalHeight, i.getAttribute('loading')])"""
    )
    for width, height, natural_width, natural_height, _ in shown:
        assert (width, height) == (str(natural_width), str(natural_height)), shown
    assert shown[0][4] is None
    assert all(loading == "lazy" for *_, loading in shown[1:]), shown


def test_main_pages_have_no_axe_violations(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    project_id, video_id = site["project"]["id"], site["video"]["id"]
    glossary = [{"term": "Acme Uploader", "translations": {"es": "Cargador Acme"}}]
    saved = site["api"].put(f"/api/projects/{project_id}/glossary", json=glossary)
    assert saved.status_code == 200, saved.text
    hook = site["api"].post(
        f"/api/projects/{project_id}/webhooks", json={"url": "https://hooks.example.com/reeldocs"}
    )
    assert hook.status_code == 201, hook.text
    owner_page = open_context(site["owner"]).new_page()
    visits = [
        (open_context().new_page(), "/login"),
        (owner_page, "/"),
        (owner_page, f"/projects/{project_id}"),
        (owner_page, f"/projects/{project_id}/upload"),
        (owner_page, f"/videos/{video_id}"),
        (owner_page, f"/projects/{project_id}/jobs/{site['held']}"),
        (owner_page, f"/projects/{project_id}/jobs/{site['done']['id']}"),
        (owner_page, f"/videos/{video_id}/docs?language=es"),
        (owner_page, "/settings"),
        (owner_page, f"/projects/{project_id}/glossary"),
        (owner_page, f"/projects/{project_id}/glossary?edit=Acme%20Uploader"),
        (owner_page, f"/projects/{project_id}/webhooks"),
    ]
    axe = Axe()
    found = {}
    for page, path in visits:
        page.goto(path)
        page.wait_for_load_state("load")
        violations = axe.run(page).response["violations"]
        if violations:
            found[path] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert found == {}


def _axe_violations(page: Page) -> list[tuple[str, list[Any]]]:
    violations = Axe().run(page).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


def test_editing_pages_have_no_axe_violations(
    site: dict[str, Any], open_context: Callable[..., BrowserContext], db_url: str
) -> None:
    """The article editor, a proposal, a conflict, the history pages, a segment's editor
    and an out-of-date translation, as editors and owners see them."""
    api, video_id = site["api"], site["video"]["id"]
    english = api.get(f"/api/videos/{video_id}/articles", params={"language": "en"}).json()
    segment = api.get(f"/api/videos/{video_id}/segments").json()[0]
    edited, offered = english[0], english[-1]
    changed = api.patch(
        f"/api/articles/{edited['id']}",
        json={"content_markdown": edited["content_markdown"] + "\nA line a person added.\n"},
    )
    assert changed.status_code == 200, changed.text
    with psycopg.connect(db_url) as conn:
        # what a later run leaves on an edited article: its text as a proposal
        conn.execute(
            "UPDATE articles SET edited = true, proposal_title = title || ' (new run)', "
            "proposal_markdown = content_markdown || E'\\nA sentence from the new run.\\n', "
            "proposal_created_at = now() WHERE id = %s",
            (offered["id"],),
        )
    page = open_context(site["owner"]).new_page()
    found = {}
    for path in (
        f"/videos/{video_id}/docs?language=en&edit={edited['id']}",
        f"/articles/{edited['id']}/revisions",
        f"/articles/{edited['id']}/revisions/1",
        f"/videos/{video_id}?segment={segment['id']}",
        f"/videos/{video_id}/docs?language=es",
    ):
        page.goto(path)
        page.wait_for_load_state("load")
        if path.endswith("language=en&edit=" + edited["id"]):
            added = page.locator(".proposal .diff-added")
            expect(added.filter(has_text="A sentence from the new run.")).to_have_count(1)
        if path.endswith("language=es"):
            expect(page.locator(".stale-card")).to_be_visible()
        found[path] = _axe_violations(page)

    # Two versions side by side: a save from a copy someone else saved over since.
    page.goto(f"/videos/{video_id}/docs?language=en")
    card = page.locator(f"article[data-article-id='{edited['id']}']")
    card.get_by_role("link", name="Edit", exact=True).click()
    text = card.get_by_label("Text, in Markdown")
    expect(text).to_be_visible()
    assert api.patch(f"/api/articles/{edited['id']}", json={"title": "Saved first"}).is_success
    text.fill("Mine.\n")
    card.get_by_role("button", name="Save").click()
    expect(card.locator("[data-version=theirs]")).to_be_visible()
    found["conflict"] = _axe_violations(page)
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_text_is_gzipped_but_video_ranges_and_images_are_not(site: dict[str, Any]) -> None:
    owner: httpx.Client = site["owner"]
    gzip = {"Accept-Encoding": "gzip"}
    page = owner.get(f"/projects/{site['project']['id']}", headers=gzip)
    assert page.status_code == 200 and page.headers.get("content-encoding") == "gzip"
    assert "Handbook" in page.text
    script = re.search(r'src="(/static/htmx\.min\.js\?v=\w+)"', page.text)
    assert script
    asset = owner.get(script.group(1), headers=gzip)
    assert asset.headers.get("content-encoding") == "gzip"
    listing = owner.get("/openapi.json", headers=gzip)
    assert listing.headers.get("content-encoding") == "gzip" and listing.json()["paths"]

    video = site["video"]
    ranged = owner.get(
        f"/api/videos/{video['id']}/file", headers={**gzip, "Range": "bytes=100-1123"}
    )
    assert ranged.status_code == 206
    assert "content-encoding" not in ranged.headers
    assert len(ranged.content) == 1024 and ranged.headers["content-range"].startswith(
        "bytes 100-1123/"
    )
    whole = owner.get(f"/api/videos/{video['id']}/file", headers=gzip)
    assert whole.status_code == 200 and "content-encoding" not in whole.headers

    docs = owner.get(f"/videos/{video['id']}/docs", headers=gzip).text
    shot = re.search(r'src="(/api/videos/[^"]+/screenshots/[^"]+)"', docs)
    assert shot
    picture = owner.get(shot.group(1), headers=gzip)
    assert picture.headers["content-type"] == "image/webp"
    assert "content-encoding" not in picture.headers


def test_docs_site_pages_have_no_axe_violations_and_headings_in_order(
    site: dict[str, Any], open_context: Callable[..., BrowserContext]
) -> None:
    api: httpx.Client = site["api"]
    project, video = site["project"], site["video"]
    root = httpx.URL(project["public_url"]).path
    article = api.get(f"/api/videos/{video['id']}/articles", params={"language": "es"}).json()[0]
    assert api.patch(f"/api/projects/{project['id']}", json={"public_docs": False}).is_success
    axe = Axe()
    found = {}

    def check(page: Page, path: str) -> None:
        answer = page.goto(path)
        assert answer is not None and answer.status in (200, 404), path
        page.wait_for_load_state("load")
        violations = axe.run(page).response["violations"]
        if violations:
            found[path] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
        levels = _heading_levels(page)
        assert levels[0] == 1 and levels.count(1) == 1, (path, levels)
        assert [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1] == []

    check(open_context(site["owner"]).new_page(), root)  # a member's preview, with its banner
    assert api.patch(f"/api/projects/{project['id']}", json={"public_docs": True}).is_success
    assert api.patch(f"/api/videos/{video['id']}", json={"published": True}).is_success
    reader = open_context().new_page()
    for path in (
        root,
        f"{root}?lang=es",
        f"{root}es/{video['slug']}/",
        f"{root}es/{video['slug']}/{article['slug']}",
        f"{root}search?q=invite&lang=en",
        f"{root}search?lang=es",
        f"{root}en/no-such-video/",
    ):
        check(reader, path)
    assert found == {}
