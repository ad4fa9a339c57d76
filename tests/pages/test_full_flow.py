"""The whole path a person takes, in a real browser with a real worker.

Sign up, create a project, upload a generated video in English and Spanish, see the
progress card stand at a step while the job is held there (the worker's test hold), see
the job on the project overview while it runs, let it go and see it complete without
reloading, read the docs in both languages, and seek the player from a `[video:MM:SS]`
link. Nothing here depends on catching a state between two polls: the job waits at
`translating_es` for as long as the test looks at it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls
from tests.conftest import WorkerProcesses, worker_group
from tests.pages.conftest import screenshot

SLIDES = ["Welcome to Acme", "Create a project", "Upload a video"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "drag your video file onto the upload page",
]
SECONDS_PER_SLIDE = 4.5  # 13.5 s in all
JOB_TIMEOUT_MS = 120_000
HELD_STEP = "translating_es"


@pytest.fixture(scope="module")
def hold_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hold") / "hold"


@pytest.fixture(scope="module")
def held_worker(db_urls: DatabaseUrls, hold_file: Path) -> Iterator[WorkerProcesses]:
    """A worker that holds jobs at the start of HELD_STEP while `hold_file` exists."""
    with worker_group(
        db_urls,
        start=True,
        REELDOCS_TEST_HOLD_AT=HELD_STEP,
        REELDOCS_TEST_HOLD_FILE=str(hold_file),
    ) as group:
        yield group


@pytest.fixture(scope="module")
def tour_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "acme-tour.mp4"
    return make_slide_video(path, SLIDES, SECONDS_PER_SLIDE, speech=SPEECH)


def _sign_up(page: Page) -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill("Ada")
    page.get_by_label("E-mail address").fill(f"ada-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()


def test_upload_to_docs_in_two_languages(
    open_context: Callable[..., BrowserContext],
    held_worker: WorkerProcesses,
    hold_file: Path,
    tour_video: Path,
) -> None:
    context = open_context()
    page = context.new_page()

    _sign_up(page)
    screenshot(page, "flow-01-dashboard")

    page.get_by_label("Name").fill("Acme handbook")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Acme handbook")).to_be_visible()
    project_url = page.url
    expect(page.locator("#jobs-card h2")).to_have_text("Processing Jobs")
    screenshot(page, "flow-02-project-empty")

    page.get_by_role("link", name="Upload video").click()
    expect(page.get_by_role("heading", name="Upload a video")).to_be_visible()
    page.locator("#video-file").set_input_files(str(tour_video))
    page.get_by_label("Title").fill("Acme tour")
    chips = page.locator("[data-language-chips]")
    expect(chips.locator(".chip", has_text="English").locator("input")).to_be_checked()
    chips.locator(".chip", has_text="Spanish").click()
    expect(chips.locator("input[name=language_order]")).to_have_value("en,es")
    screenshot(page, "flow-03-upload-form")
    # Every text the upload progress line shows, kept after the card replaces the form.
    page.evaluate(
        """() => {
            const line = document.querySelector('[data-upload-text]');
            window.uploadTexts = [];
            new MutationObserver(() => window.uploadTexts.push(line.textContent))
                .observe(line, {childList: true, characterData: true, subtree: true});
        }"""
    )
    hold_file.touch()
    page.get_by_role("button", name="Upload & generate docs").click()

    card = page.locator("#job-card")
    expect(card).to_be_visible(timeout=30_000)
    # The upload went through the progress bar to the end before the card replaced it.
    upload_texts = page.evaluate("window.uploadTexts")
    assert any("Uploading… 100%" in text for text in upload_texts), upload_texts
    assert re.search(r"/projects/[0-9a-f-]+/jobs/[0-9a-f-]+$", page.url)
    job_id = card.get_attribute("data-job-id")
    expect(card).to_contain_text("You can navigate away — processing continues in the background.")
    labels = card.locator(".step-label").all_inner_texts()
    assert labels == [
        "Uploading video",
        "Extracting content",
        "Generating documentation",
        "Translating to Spanish",
        "Subtitles",
        "Done",
    ]
    screenshot(page, "flow-04-job-card")

    # The job is held at the start of its Spanish translation: the card shows that step
    # active and every earlier one done, as the database recorded them.
    steps = card.locator(".step")
    expect(card.locator("[data-state=active]")).to_have_attribute(
        "data-step", HELD_STEP, timeout=JOB_TIMEOUT_MS
    )
    states = steps.evaluate_all("els => els.map(e => [e.dataset.step, e.dataset.state])")
    assert states == [
        ["uploading", "done"],
        ["transcribing", "done"],
        ["generating_docs", "done"],
        [HELD_STEP, "active"],
        ["subtitles", "waiting"],
        ["complete", "waiting"],
    ], states
    expect(card).to_have_attribute("data-status", "processing")
    screenshot(page, "flow-04b-job-held")

    # The project overview, in another tab while the job runs, shows it in its card.
    overview = context.new_page()
    overview.goto(project_url)
    row = overview.locator(f"#jobs-card [data-job-id='{job_id}']")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "processing")
    assert overview.locator("#jobs-card").get_attribute("data-polling") == "fast"
    expect(row.locator(".job-title")).to_have_text("Acme tour")
    screenshot(overview, "flow-05-overview-running")

    hold_file.unlink()
    expect(card).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
    assert all(s == "done" for s in steps.evaluate_all("els => els.map(e => e.dataset.state)"))
    expect(card.get_by_role("link", name="Read the docs")).to_be_visible()
    assert card.get_attribute("hx-get") is None  # polling stopped
    screenshot(page, "flow-06-job-complete")

    # The overview tab caught up by itself, and its fast polling stopped.
    expect(row).to_have_attribute("data-status", "completed", timeout=10_000)
    expect(overview.locator("#jobs-card")).to_have_attribute("data-polling", "idle")
    expect(overview.locator(".video-item .badge")).to_have_text("Ready", timeout=5_000)
    screenshot(overview, "flow-07-overview-done")

    card.get_by_role("link", name="Read the docs").click()
    expect(page.locator(".docs-main")).to_have_attribute("lang", "en")
    english = page.locator(".article .prose").all_inner_texts()
    assert english and all(text.strip() for text in english)
    screenshot(page, "flow-08-docs-en")

    page.locator(".language-switcher").get_by_role("link", name="Spanish").click()
    expect(page.locator(".docs-main")).to_have_attribute("lang", "es")
    spanish = page.locator(".article .prose").all_inner_texts()
    assert len(spanish) == len(english) and spanish != english
    screenshot(page, "flow-09-docs-es")

    player = page.locator("#player")
    page.wait_for_function(
        "() => document.getElementById('player').readyState >= 1", timeout=15_000
    )
    assert player.evaluate("v => v.currentTime") == 0
    links = page.locator(".prose a.timestamp")
    seconds = [float(s) for s in links.evaluate_all("els => els.map(e => e.dataset.seek)")]
    target = max(range(len(seconds)), key=lambda index: seconds[index])
    assert seconds[target] > 0, seconds
    links.nth(target).click()
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {seconds[target]}) < 1"
    )
    assert page.url.endswith("/docs?language=es")  # seeking did not navigate away
    screenshot(page, "flow-10-seeked")
