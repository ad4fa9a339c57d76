"""Projects: create, list, rename, delete, and slugs unique within an org."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.auth.accounts import csrf_headers, join_team, org_id_of
from tests.auth.expect import assert_error


def test_project_lifecycle_in_the_personal_org(user: httpx.Client) -> None:
    created = user.post("/api/projects", json={"name": "  Getting Started  "})

    assert created.status_code == 201, created.text
    project = created.json()
    assert set(project) == {"id", "name", "slug", "org_id", "public_docs", "public_url"}
    assert project["name"] == "Getting Started"
    assert project["slug"] == "getting-started"
    assert project["org_id"] == org_id_of(user)
    assert user.get("/api/projects").json() == [project]

    renamed = user.patch(f"/api/projects/{project['id']}", json={"name": "Onboarding"})

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Onboarding"
    assert renamed.json()["slug"] == project["slug"]  # links keep working after a rename
    assert user.get("/api/projects").json()[0]["name"] == "Onboarding"

    deleted = user.delete(f"/api/projects/{project['id']}", headers=csrf_headers(user))

    assert deleted.status_code == 204
    assert user.get("/api/projects").json() == []
    again = user.delete(f"/api/projects/{project['id']}", headers=csrf_headers(user))
    assert_error(again, 404, "NotFound")
    assert_error(user.patch(f"/api/projects/{project['id']}", json={"name": "X"}), 404, "NotFound")


def test_two_projects_with_the_same_name_get_different_slugs(user: httpx.Client) -> None:
    first = user.post("/api/projects", json={"name": "Demo"}).json()
    second = user.post("/api/projects", json={"name": "Demo"}).json()

    assert first["slug"] == "demo"
    assert second["slug"] != first["slug"]
    assert second["slug"].startswith("demo-")
    assert {p["id"] for p in user.get("/api/projects").json()} == {first["id"], second["id"]}


def test_the_same_slug_may_exist_in_different_orgs(
    make_user: Callable[..., httpx.Client],
) -> None:
    ada, bob = make_user("ada"), make_user("bob")

    assert ada.post("/api/projects", json={"name": "Demo"}).json()["slug"] == "demo"
    assert bob.post("/api/projects", json={"name": "Demo"}).json()["slug"] == "demo"


def test_names_without_letters_still_get_a_slug(user: httpx.Client) -> None:
    project = user.post("/api/projects", json={"name": "🎬 ✨"}).json()

    assert project["name"] == "🎬 ✨"
    assert project["slug"] == "project"


def test_an_editor_creates_projects_in_a_team_by_org_id(
    make_user: Callable[..., httpx.Client],
) -> None:
    owner, editor = make_user("owner"), make_user("editor")
    team = org_id_of(owner)
    join_team(owner, team, editor, "editor")

    created = editor.post("/api/projects", json={"name": "Release notes", "org_id": team})

    assert created.status_code == 201, created.text
    project = created.json()
    assert project["org_id"] == team
    # The owner sees it; the editor may rename and delete it.
    assert [p["id"] for p in owner.get("/api/projects").json()] == [project["id"]]
    renamed = editor.patch(f"/api/projects/{project['id']}", json={"name": "Changelog"})
    assert renamed.status_code == 200
    deleted = editor.delete(f"/api/projects/{project['id']}", headers=csrf_headers(editor))
    assert deleted.status_code == 204
    assert owner.get("/api/projects").json() == []


def test_project_names_must_not_be_blank(user: httpx.Client) -> None:
    assert_error(user.post("/api/projects", json={"name": ""}), 422, "ValidationError")
    blank = user.post("/api/projects", json={"name": "   "})
    assert "name" in assert_error(blank, 422, "ValidationError")
    project = user.post("/api/projects", json={"name": "Kept"}).json()
    rename = user.patch(f"/api/projects/{project['id']}", json={"name": " "})
    assert_error(rename, 422, "ValidationError")
    assert user.get("/api/projects").json()[0]["name"] == "Kept"


def test_unknown_or_malformed_project_ids_are_404_or_422(user: httpx.Client) -> None:
    missing = user.patch(
        "/api/projects/00000000-0000-4000-8000-000000000000", json={"name": "Nothing"}
    )
    assert_error(missing, 404, "NotFound")
    malformed = user.patch("/api/projects/not-a-uuid", json={"name": "Nothing"})
    assert_error(malformed, 422, "ValidationError")
    unknown_org = user.post(
        "/api/projects",
        json={"name": "Lost", "org_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert_error(unknown_org, 404, "NotFound")


def test_projects_created_at_once_with_one_name_all_get_their_own_slug(
    user: httpx.Client,
) -> None:
    def create(_: int) -> httpx.Response:
        return user.post("/api/projects", json={"name": "Launch"})

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(create, range(4)))

    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    slugs = {a.json()["slug"] for a in answers}
    assert len(slugs) == 4 and "launch" in slugs


def test_project_names_lose_control_and_invisible_characters(user: httpx.Client) -> None:
    created = user.post("/api/projects", json={"name": "Pay\u202eroll\u200b \x1b[2J tour\x07"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Pay roll [2J tour"
    renamed = user.patch(
        f"/api/projects/{created.json()['id']}", json={"name": "\u200bOnboarding\u2066"}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Onboarding"
    refused = user.post("/api/projects", json={"name": "\u200b\u202e"})
    assert "name" in assert_error(refused, 422, "ValidationError")
