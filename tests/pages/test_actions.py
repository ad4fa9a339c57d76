"""Actions in the browser: the project card's live updates, Cancel, Retry and Process,
and the settings page's members and API tokens.

No worker runs here, so jobs stay where the test puts them; the module cancels what
it leaves pending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from tests.pages.conftest import screenshot

IDLE_CHECK_SECONDS = 10


@pytest.fixture
def owner_api(
    make_user: Callable[..., httpx.Client],
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    owner = make_user("owner")
    api = bearer_client(owner)
    yield owner, api
    api.close()


def test_project_card_follows_jobs_started_elsewhere_and_its_buttons_work(
    owner_api: tuple[httpx.Client, httpx.Client],
    open_context: Callable[..., BrowserContext],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    owner, api = owner_api
    clip = make_slide_video(tmp_path_factory.mktemp("media") / "clip.mp4", ["One"], 1.0)
    project = create_project(api, "Live card")
    video = upload_video(api, project["id"], clip, "Live clip")
    page = open_context(owner).new_page()
    page.goto(f"/projects/{project['id']}")
    card = page.locator("#jobs-card")
    expect(card).to_have_attribute("data-polling", "idle")
    expect(card.locator(".job")).to_have_count(0)

    # Started through the API, as another tab or a script would: the idle card notices.
    first = process(api, video["id"], ["en"])
    jobs: list[str] = [first]
    try:
        row = card.locator(f"[data-job-id='{first}']")
        expect(row).to_be_visible(timeout=(IDLE_CHECK_SECONDS + 3) * 1000)
        expect(card).to_have_attribute("data-polling", "fast")
        expect(page.locator(".video-item .badge")).to_have_text("Processing")

        row.get_by_role("button", name="Cancel").click()
        expect(row).to_have_attribute("data-status", "cancelled")
        expect(card).to_have_attribute("data-polling", "idle")
        expect(page.locator(".video-item .badge")).to_have_text("Uploaded")
        screenshot(page, "actions-cancelled")

        row.get_by_role("button", name="Retry").click()
        retried = card.locator(".job[data-status='pending']")
        expect(retried).to_have_count(1)
        second = retried.get_attribute("data-job-id") or ""
        jobs.append(second)
        assert second != first
        assert api.get(f"/api/jobs/{second}").json()["retry_of"] == first
        expect(card.locator(f"[data-job-id='{first}']")).to_have_count(0)  # retried: hidden
        retried.get_by_role("button", name="Cancel").click()
        expect(card.locator(f"[data-job-id='{second}']")).to_have_attribute(
            "data-status", "cancelled"
        )

        # Process again from the videos list, in English then Spanish.
        item = page.locator(".video-item")
        item.locator("summary", has_text="Process").click()
        item.locator(".chip", has_text="Spanish").click()
        expect(item.locator("input[name=language_order]")).to_have_value("en,es")
        screenshot(page, "actions-process-form")
        item.get_by_role("button", name="Generate docs").click()
        fresh = card.locator(".job[data-status='pending']")
        expect(fresh).to_have_count(1)
        jobs.append(fresh.get_attribute("data-job-id") or "")
        assert api.get(f"/api/jobs/{jobs[-1]}").json()["languages"] == ["en", "es"]
        expect(fresh).to_contain_text("English · Spanish")

        expect(page.locator(".video-item summary", has_text="Process")).to_have_count(0)

        # A refused action (this job is no longer active) shows the server's sentence.
        page.evaluate(
            "id => htmx.ajax('POST', `/jobs/${id}/cancel`, "
            "{target: '#jobs-card', swap: 'outerHTML', values: {card: 'project'}})",
            first,
        )
        expect(page.locator("#flash .alert-error")).to_contain_text(
            "Only pending or processing jobs can be cancelled"
        )
    finally:
        for job_id in jobs:
            api.post(f"/api/jobs/{job_id}/cancel")


def test_settings_members_and_tokens(
    owner_api: tuple[httpx.Client, httpx.Client],
    make_user: Callable[..., httpx.Client],
    open_context: Callable[..., BrowserContext],
    base_url: str,
) -> None:
    owner, api = owner_api
    colleague = make_user("colleague")
    page = open_context(owner).new_page()
    page.goto("/settings")
    members = page.locator(".members .member")
    expect(members).to_have_count(1)

    page.get_by_label("E-mail address").fill(colleague.email)  # type: ignore[attr-defined]
    page.locator("form[action$='/members'] select[name=role]").select_option("viewer")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".alert-success")).to_contain_text("they join when they accept")
    invited = page.locator(f".pending-invitations [data-email='{colleague.email}']")  # type: ignore[attr-defined]
    expect(invited).to_contain_text("as viewer")
    expect(members).to_have_count(1)  # not a member until they accept

    # The colleague, signed in, finds the invitation on their settings page and accepts it.
    theirs = open_context(colleague).new_page()
    theirs.goto("/settings")
    received = theirs.locator(".invitations-received .invitation")
    expect(received).to_contain_text("as viewer")
    screenshot(theirs, "actions-settings-invitation")
    received.get_by_role("button", name="Accept").click()
    expect(theirs.locator(".invitations-received")).to_have_count(0)
    page.goto("/settings")
    expect(page.locator(".pending-invitations")).to_have_count(0)
    added = page.locator(f".member[data-email='{colleague.email}']")  # type: ignore[attr-defined]
    expect(added).to_be_visible()
    expect(added.locator("select")).to_have_value("viewer")

    added.locator("select").select_option("editor")
    added.get_by_role("button", name="Change").click()
    expect(added.locator("select")).to_have_value("editor")
    roles = {m["email"]: m["role"] for m in api.get(f"/api/orgs/{owner.org_id}/members").json()}  # type: ignore[attr-defined]
    assert roles[colleague.email] == "editor"  # type: ignore[attr-defined]

    # The last owner cannot step down: the sentence says why, nothing changes.
    me = page.locator(f".member[data-email='{owner.email}']")  # type: ignore[attr-defined]
    me.locator("select").select_option("viewer")
    me.get_by_role("button", name="Change").click()
    expect(page.locator(".alert-error")).to_contain_text("at least one owner")
    expect(me.locator("select")).to_have_value("owner")

    added.get_by_role("button", name="Remove").click()
    expect(added).to_have_count(0)
    expect(members).to_have_count(1)

    page.get_by_label("Token name").fill("CI")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("[data-new-token]")
    expect(shown).to_be_visible()
    token = shown.inner_text().strip()
    screenshot(page, "actions-settings-token")
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/projects").status_code == 200
        page.goto("/settings")
        expect(page.locator("[data-new-token]")).to_have_count(0)  # shown once only
        row = page.locator(".token", has_text="CI")
        expect(row).to_contain_text("last used")
        row.get_by_role("button", name="Revoke").click()
        expect(page.locator(".token", has_text="CI")).to_have_count(0)
        assert script.get("/api/projects").status_code == 401


def test_log_out_ends_the_session(
    owner_api: tuple[httpx.Client, httpx.Client], open_context: Callable[..., BrowserContext]
) -> None:
    owner, _ = owner_api
    page = open_context(owner).new_page()
    page.goto("/settings")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto("/settings")
    expect(page).to_have_url(re.compile(r"/login\?next=/settings$"))
    assert owner.get("/api/projects").status_code == 401  # the server ended the session


def test_upload_form_takes_a_dropped_file_and_shows_the_servers_refusal(
    owner_api: tuple[httpx.Client, httpx.Client], open_context: Callable[..., BrowserContext]
) -> None:
    owner, api = owner_api
    project = create_project(api, "Drops")
    page = open_context(owner).new_page()
    page.goto(f"/projects/{project['id']}/upload")
    page.get_by_role("button", name="Upload & generate docs").click()
    error = page.locator("[data-upload-error]")
    expect(error).to_have_text("Choose a video file first: drop it on the box or pick it.")

    dropped = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            const text = 'These are meeting notes, not a video.\\n'.repeat(40);
            transfer.items.add(new File([text], 'meeting-notes.mp4', {type: 'video/mp4'}));
            return transfer;
        }"""
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": dropped})
    expect(page.locator("[data-file-name]")).to_contain_text("meeting-notes.mp4")
    expect(page.get_by_label("Title")).to_have_value("meeting-notes")
    page.get_by_role("button", name="Upload & generate docs").click()
    expect(error).to_be_visible()
    sentence = error.inner_text()
    assert sentence.endswith(".") and "video" in sentence.lower(), sentence
    expect(page.get_by_role("button", name="Upload & generate docs")).to_be_enabled()
    assert api.get(f"/api/projects/{project['id']}/jobs").json() == []


def test_upload_form_offers_languages_by_name_and_refuses_a_translation_alone_before_uploading(
    owner_api: tuple[httpx.Client, httpx.Client], open_context: Callable[..., BrowserContext]
) -> None:
    owner, api = owner_api
    project = create_project(api, "Languages")
    page = open_context(owner).new_page()
    uploads: list[str] = []
    page.on(
        "request",
        lambda request: uploads.append(request.url) if request.method == "POST" else None,
    )
    page.goto(f"/projects/{project['id']}/upload")
    chips = page.locator("[data-language-chips] .chip")
    offered = [o for o in api.get("/api/languages").json() if o["primary"] or o["translate"]]
    # what the server accepts, the language docs are written in first, then by name
    expected = [o["label"] for o in offered if o["primary"]] + sorted(
        o["label"] for o in offered if not o["primary"]
    )
    assert [label.strip() for label in chips.locator("span:first-of-type").all_inner_texts()] == (
        expected
    )
    assert "Spanish" in expected

    page.locator("#video-file").set_input_files(
        files=[{"name": "tour.mp4", "mimeType": "video/mp4", "buffer": b"\x00" * 2048}]
    )
    chips.filter(has_text="English").click()  # unticked: only Spanish stays
    chips.filter(has_text="Spanish").click()
    page.get_by_role("button", name="Upload & generate docs").click()
    error = page.locator("[data-upload-error]")
    expect(error).to_have_text(
        "Docs are written in English and translated from there: tick English as well, and "
        "the languages you picked become translations."
    )
    assert uploads == []  # nothing was sent
    assert api.get(f"/api/projects/{project['id']}/videos").json() == []
    screenshot(page, "upload-translation-alone")
