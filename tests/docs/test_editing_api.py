"""Editing articles through the API, on a video a real worker processed (English, and a
Spanish translation): saves checked against ETags, revisions, restoring, stale
translations; an editor may change, a viewer only read, an outsider sees nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.auth.accounts import email_of, join_team, org_id_of
from tests.auth.expect import assert_error
from tests.conftest import WorkerProcesses
from tests.support.api import bearer_client, create_project, process, upload_video, wait_for_job
from tests.support.media_factory import make_slide_video

SLIDES = ["Welcome to Acme", "Create a project", "Invite your team"]
SPEECH = [
    "welcome to the acme product tour",
    "click new project and type a name for it",
    "open settings and invite your team by email",
]
ARTICLE_FIELDS = {
    "id",
    "video_id",
    "title",
    "slug",
    "language",
    "chapter_title",
    "order",
    "content_markdown",
    "edited",
    "has_proposal",
    "stale",
    "updated_at",
}


@dataclass
class Team:
    editor: httpx.Client
    viewer: httpx.Client
    outsider: httpx.Client
    video: dict[str, Any]
    editor_email: str


@pytest.fixture(scope="module")
def team(
    tmp_path_factory: pytest.TempPathFactory,
    make_module_user: Callable[..., httpx.Client],
    module_worker: WorkerProcesses,
) -> Iterator[Team]:
    owner = make_module_user("editor")
    viewer_session = make_module_user("viewer")
    join_team(owner, org_id_of(owner), viewer_session, "viewer")
    editor = bearer_client(owner)
    viewer = bearer_client(viewer_session)
    outsider = bearer_client(make_module_user("outsider"))
    path = tmp_path_factory.mktemp("media") / "acme.mp4"
    make_slide_video(path, SLIDES, 4.0, speech=SPEECH)
    project = create_project(editor, "Editing")
    video = upload_video(editor, project["id"], path, "Acme tour")
    job = wait_for_job(editor, process(editor, video["id"], ["en", "es"]), timeout=300)
    assert job["status"] == "completed", job
    yield Team(editor, viewer, outsider, video, email_of(owner))
    for client in (editor, viewer, outsider):
        client.close()


def articles(team: Team, language: str = "en") -> list[dict[str, Any]]:
    answer = team.editor.get(f"/api/videos/{team.video['id']}/articles?language={language}")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_articles_carry_their_id_video_and_editing_state(team: Team) -> None:
    listed = articles(team)
    assert len(listed) >= 2
    for article in listed:
        assert set(article) == ARTICLE_FIELDS
        assert article["video_id"] == team.video["id"]
        assert (article["edited"], article["has_proposal"], article["stale"]) == (
            False,
            False,
            False,
        )
    first = listed[0]
    answer = team.editor.get(f"/api/articles/{first['id']}")
    assert answer.status_code == 200, answer.text
    assert answer.json() == first
    assert answer.headers["ETag"].startswith('"')
    revisions = team.editor.get(f"/api/articles/{first['id']}/revisions").json()
    assert [(r["revision"], r["source"], r["author_email"]) for r in revisions] == [
        (1, "generated", None)
    ]


def test_a_save_becomes_a_revision_and_a_stale_save_is_refused(team: Team) -> None:
    article = articles(team)[0]
    url = f"/api/articles/{article['id']}"
    opened = team.editor.get(url).headers["ETag"]
    text = article["content_markdown"] + "\nA sentence written by a person. [video:00:01]\n"
    saved = team.editor.patch(
        url,
        json={"content_markdown": text, "title": "  Welcome,\tfixed  "},
        headers={"If-Match": opened},
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["content_markdown"] == text
    assert body["title"] == body["chapter_title"] == "Welcome, fixed"
    assert body["edited"] is True
    assert saved.headers["ETag"] != opened
    assert team.editor.get(url).headers["ETag"] == saved.headers["ETag"]

    # a second tab still holds the first version
    late = team.editor.patch(url, json={"title": "Other"}, headers={"If-Match": opened})
    detail = assert_error(late, 412, "PreconditionFailed")
    assert "saved" in detail
    assert late.json()["article"]["content_markdown"] == text
    assert late.json()["etag"] == saved.headers["ETag"]
    assert team.editor.get(url).json()["title"] == "Welcome, fixed"

    revisions = team.editor.get(f"{url}/revisions").json()
    assert [(r["revision"], r["source"]) for r in revisions] == [(2, "edited"), (1, "generated")]
    assert revisions[0]["author_email"] == team.editor_email
    first = team.editor.get(f"{url}/revisions/1").json()
    assert first["content_markdown"] == article["content_markdown"]
    assert first["title"] == article["title"]


def test_restoring_a_revision_writes_a_new_one(team: Team) -> None:
    article = articles(team)[1]
    url = f"/api/articles/{article['id']}"
    assert team.editor.patch(url, json={"content_markdown": "# Short\n"}).status_code == 200
    restored = team.editor.post(f"{url}/revisions/1/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["content_markdown"] == article["content_markdown"]
    assert restored.headers["ETag"] == team.editor.get(url).headers["ETag"]
    sources = [r["source"] for r in team.editor.get(f"{url}/revisions").json()]
    assert sources == ["restored", "edited", "generated"]
    missing = team.editor.get(f"{url}/revisions/9")
    assert_error(missing, 404, "NotFound")


def test_editing_a_primary_article_makes_its_translation_stale(team: Team) -> None:
    english = articles(team)
    spanish = articles(team, "es")
    assert len(spanish) == len(english)
    stale = {a["order"]: a["stale"] for a in spanish}
    # the first two English articles were changed above; the last one was not
    assert stale[english[0]["order"]] and stale[english[1]["order"]]
    assert not stale[english[-1]["order"]]
    # a translation edited by hand is edited, not stale for that
    last = spanish[-1]
    edited = team.editor.patch(
        f"/api/articles/{last['id']}", json={"content_markdown": "# Hola\n"}
    ).json()
    assert edited["edited"] and not edited["stale"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "   "},
        {"title": "x" * 301},
        {"content_markdown": "x" * 100_001},
        {"content_markdown": "a\x00b"},
    ],
    ids=["blank-title", "long-title", "long-text", "nul"],
)
def test_what_cannot_be_saved_is_refused_with_a_sentence(team: Team, body: dict[str, Any]) -> None:
    article = articles(team)[-1]
    answer = team.editor.patch(f"/api/articles/{article['id']}", json=body)
    assert_error(answer, 422, "ValidationError")
    assert team.editor.get(f"/api/articles/{article['id']}").json() == article


def test_proposal_routes_answer_404_without_a_proposal(team: Team) -> None:
    article = articles(team)[-1]
    url = f"/api/articles/{article['id']}/proposal"
    assert_error(team.editor.get(url), 404, "NotFound")
    assert_error(team.editor.post(f"{url}/accept"), 404, "NotFound")
    assert_error(team.editor.post(f"{url}/reject"), 404, "NotFound")


def _changes(article_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    url = f"/api/articles/{article_id}"
    return [
        ("PATCH", url, {"title": "Not yours"}),
        ("POST", f"{url}/revisions/1/restore", None),
        ("POST", f"{url}/proposal/accept", None),
        ("POST", f"{url}/proposal/reject", None),
    ]


def _reads(article_id: str) -> list[str]:
    url = f"/api/articles/{article_id}"
    return [url, f"{url}/revisions", f"{url}/revisions/1"]


def test_a_viewer_reads_but_may_not_change(team: Team) -> None:
    article = articles(team)[-1]
    for url in _reads(article["id"]):
        assert team.viewer.get(url).status_code == 200, url
    for method, url, body in _changes(article["id"]):
        answer = team.viewer.request(method, url, json=body)
        assert_error(answer, 403, "Forbidden")
    assert team.editor.get(f"/api/articles/{article['id']}").json() == article


def test_an_outsider_finds_nothing(team: Team) -> None:
    article = articles(team)[-1]
    for url in [*_reads(article["id"]), f"/api/articles/{article['id']}/proposal"]:
        assert_error(team.outsider.get(url), 404, "NotFound")
    for method, url, body in _changes(article["id"]):
        assert_error(team.outsider.request(method, url, json=body), 404, "NotFound")
    assert team.editor.get(f"/api/articles/{article['id']}").json() == article
