"""Editing articles through the API, on a video a real worker processed (English, and a
Spanish translation): saves checked against ETags, revisions, restoring, stale
translations; an editor may change, a viewer only read, an outsider sees nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.auth.expect import assert_error
from tests.docs.conftest import ARTICLE_FIELDS, Team, articles


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
    document = team.editor.get("/openapi.json").json()
    assert "412" in document["paths"]["/api/articles/{article_id}"]["patch"]["responses"]

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
