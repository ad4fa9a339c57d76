"""The API's publishing rows: a project's `public_docs` and `public_url`, a video's
`published` (and its title), each changed by owners and editors only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.auth.accounts import csrf_headers, join_team, org_id_of
from tests.auth.expect import assert_error
from tests.conftest import configured_server
from tests.support.api import bearer_client, create_project, upload_video
from tests.support.media_factory import make_slide_video

Users = Callable[..., httpx.Client]


@dataclass
class Team:
    owner: httpx.Client
    editor: httpx.Client
    viewer: httpx.Client
    outsider: httpx.Client
    project: dict[str, Any]
    video: dict[str, Any]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slide_video(tmp_path_factory.mktemp("media") / "clip.mp4", ["One", "Two"], 0.5)


@pytest.fixture
def team(make_user: Users, clip: Path) -> Iterator[Team]:
    owner, editor, viewer = make_user("owner"), make_user("editor"), make_user("viewer")
    join_team(owner, org_id_of(owner), editor, "editor")
    join_team(owner, org_id_of(owner), viewer, "viewer")
    with bearer_client(owner) as api:
        project = create_project(api, "Handbook")
        video = upload_video(api, project["id"], clip, "Tour")
    yield Team(owner, editor, viewer, make_user("outsider"), project, video)


def _site_path(client: httpx.Client, project: dict[str, Any]) -> str:
    slug = next(o["slug"] for o in client.get("/api/orgs").json() if o["id"] == project["org_id"])
    return f"/p/{slug}/{project['slug']}/"


def test_a_project_starts_private_with_its_sites_address(team: Team, base_url: str) -> None:
    assert team.project["public_docs"] is False
    assert team.project["public_url"] == base_url + _site_path(team.owner, team.project)
    listed = team.viewer.get("/api/projects").json()
    assert [p["public_url"] for p in listed] == [team.project["public_url"]]


@pytest.mark.parametrize("who", ["owner", "editor"])
def test_owners_and_editors_make_the_docs_public_and_private_again(team: Team, who: str) -> None:
    client: httpx.Client = getattr(team, who)
    url = f"/api/projects/{team.project['id']}"

    opened = client.patch(url, json={"public_docs": True})

    assert opened.status_code == 200, opened.text
    assert opened.json() == {**team.project, "public_docs": True}
    # the name alone leaves the docs as they are
    renamed = client.patch(url, json={"name": "Guide"}).json()
    assert (renamed["name"], renamed["public_docs"]) == ("Guide", True)
    assert renamed["public_url"] == team.project["public_url"]  # the slug stays
    closed = client.patch(url, json={"public_docs": False}).json()
    assert closed["public_docs"] is False
    assert team.viewer.get("/api/projects").json()[0]["public_docs"] is False


def test_viewers_may_not_publish_and_outsiders_do_not_see_the_project(team: Team) -> None:
    project_url = f"/api/projects/{team.project['id']}"
    video_url = f"/api/videos/{team.video['id']}"

    assert_error(team.viewer.patch(project_url, json={"public_docs": True}), 403, "Forbidden")
    assert_error(team.viewer.patch(video_url, json={"published": True}), 403, "Forbidden")
    assert_error(team.outsider.patch(project_url, json={"public_docs": True}), 404, "NotFound")
    assert_error(team.outsider.patch(video_url, json={"published": True}), 404, "NotFound")

    assert team.owner.get("/api/projects").json()[0]["public_docs"] is False
    assert team.owner.get(video_url).json()["published"] is False


@pytest.mark.parametrize("who", ["owner", "editor"])
def test_owners_and_editors_publish_a_video_and_retitle_it(team: Team, who: str) -> None:
    client: httpx.Client = getattr(team, who)
    url = f"/api/videos/{team.video['id']}"
    assert team.video["published"] is False

    published = client.patch(url, json={"published": True})

    assert published.status_code == 200, published.text
    assert published.json()["published"] is True
    assert team.viewer.get(url).json()["published"] is True
    listed = team.viewer.get(f"/api/projects/{team.project['id']}/videos").json()
    assert [v["published"] for v in listed] == [True]

    retitled = client.patch(url, json={"title": "  The   tour "}).json()
    assert (retitled["title"], retitled["published"]) == ("The tour", True)
    assert retitled["slug"] == team.video["slug"]  # its addresses stay
    assert client.patch(url, json={"published": False}).json()["published"] is False


def test_a_blank_or_long_title_is_refused(team: Team) -> None:
    url = f"/api/videos/{team.video['id']}"
    assert_error(team.owner.patch(url, json={"title": "\u202e\u200b"}), 422, "ValidationError")
    assert_error(team.owner.patch(url, json={"title": "x" * 201}), 422, "ValidationError")
    assert_error(team.owner.patch(url, json={"published": "yes please"}), 422, "ValidationError")
    assert team.owner.get(url).json()["title"] == "Tour"


def test_public_url_follows_reeldocs_public_url(
    settings: Settings, db_urls: DatabaseUrls, make_user: Users
) -> None:
    owner = make_user("owner")
    with configured_server(settings, db_urls, public_url="https://docs.example.com") as server:
        with httpx.Client(base_url=server.url, cookies=owner.cookies, timeout=60) as client:
            project = create_project(client, "Behind a proxy")
            path = _site_path(client, project)
            assert project["public_url"] == f"https://docs.example.com{path}"
            patched = client.patch(f"/api/projects/{project['id']}", json={"public_docs": True})
            assert patched.json()["public_url"] == f"https://docs.example.com{path}"


def test_the_project_page_shows_the_sites_address_and_its_controls_to_writers(
    team: Team,
) -> None:
    page = f"/projects/{team.project['id']}"
    for who in (team.owner, team.editor):
        html = who.get(page).text
        assert team.project["public_url"] in html
        assert "Make the docs public" in html and "Publish<span" in html
    seen = team.viewer.get(page).text
    assert team.project["public_url"] in seen
    assert "Make the docs public" not in seen and "Publish<span" not in seen


def test_the_page_forms_need_their_token_and_a_writer(team: Team) -> None:
    """What the buttons post, without the page's script: a redirect back to the page."""
    site = f"/projects/{team.project['id']}/site"
    publish = f"/projects/{team.project['id']}/videos/{team.video['id']}/published"
    assert team.owner.post(site, data={"public_docs": "true"}).status_code == 403
    viewer_token = csrf_headers(team.viewer)["X-CSRF-Token"]
    refused = team.viewer.post(site, data={"public_docs": "true", "csrf_token": viewer_token})
    assert refused.status_code == 403

    token = csrf_headers(team.owner)["X-CSRF-Token"]
    opened = team.owner.post(site, data={"public_docs": "true", "csrf_token": token})
    shown = team.owner.post(publish, data={"published": "true", "csrf_token": token})
    for answer in (opened, shown):
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/projects/{team.project['id']}"
    assert team.owner.get("/api/projects").json()[0]["public_docs"] is True
    assert team.owner.get(f"/api/videos/{team.video['id']}").json()["published"] is True
    # the htmx request gets the part of the page it replaces
    card = team.owner.post(
        site, data={"public_docs": "false", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert card.status_code == 200 and card.text.lstrip().startswith('<section id="site-card"')
    assert "Make the docs public" in card.text
