"""A team's name and slug: owners change them, nobody else; slugs are unique, and a new
personal team's slug never comes from its owner's e-mail address."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest

from reeldocs.core.text import slugify
from tests.auth.accounts import email_of, join_team, org_id_of
from tests.auth.expect import assert_error
from tests.conftest import PASSWORD, unique_email

Users = Callable[..., httpx.Client]


def _slug(client: httpx.Client, org_id: str) -> str:
    return str(next(o["slug"] for o in client.get("/api/orgs").json() if o["id"] == org_id))


def test_an_owner_renames_the_team_and_chooses_its_slug(make_user: Users) -> None:
    owner = make_user("owner")
    org_id = org_id_of(owner)
    wanted = f"acme-docs-{secrets.token_hex(3)}"

    answer = owner.patch(f"/api/orgs/{org_id}", json={"name": "  Acme  Docs ", "slug": wanted})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": org_id, "name": "Acme Docs", "slug": wanted}
    [team] = owner.get("/api/orgs").json()
    assert (team["name"], team["slug"]) == ("Acme Docs", wanted)
    # either alone, the other stays
    renamed = owner.patch(f"/api/orgs/{org_id}", json={"name": "Acme"}).json()
    assert (renamed["name"], renamed["slug"]) == ("Acme", wanted)
    reslugged = owner.patch(f"/api/orgs/{org_id}", json={"slug": wanted.upper()}).json()
    assert (reslugged["name"], reslugged["slug"]) == ("Acme", wanted)


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_owners_change_the_team_and_outsiders_do_not_see_it(
    make_user: Users, role: str
) -> None:
    owner, member, outsider = make_user("owner"), make_user(role), make_user("outsider")
    org_id = org_id_of(owner)
    join_team(owner, org_id, member, role)
    before = _slug(owner, org_id)

    refused = member.patch(f"/api/orgs/{org_id}", json={"name": "Mine now"})
    hidden = outsider.patch(f"/api/orgs/{org_id}", json={"slug": "taken-over"})

    assert "owners" in assert_error(refused, 403, "Forbidden")
    assert_error(hidden, 404, "NotFound")
    assert _slug(owner, org_id) == before
    assert owner.get("/api/orgs").json()[0]["name"] != "Mine now"


def test_a_slug_another_team_has_is_a_conflict(make_user: Users) -> None:
    first, second = make_user("first"), make_user("second")
    taken = _slug(first, org_id_of(first))

    answer = second.patch(f"/api/orgs/{org_id_of(second)}", json={"slug": taken})

    assert taken in assert_error(answer, 409, "Conflict")
    assert _slug(second, org_id_of(second)) != taken


@pytest.mark.parametrize(
    "slug", ["two words", "double--hyphen", "-leading", "trailing-", "ünïcode", "a/b", "x" * 61]
)
def test_a_slug_must_be_lowercase_letters_digits_and_single_hyphens(
    make_user: Users, slug: str
) -> None:
    owner = make_user("owner")

    answer = owner.patch(f"/api/orgs/{org_id_of(owner)}", json={"slug": slug})

    assert_error(answer, 422, "ValidationError")


def test_a_blank_name_is_refused(make_user: Users) -> None:
    owner = make_user("owner")
    assert "name" in assert_error(
        owner.patch(f"/api/orgs/{org_id_of(owner)}", json={"name": "\u200b "}),
        422,
        "ValidationError",
    )


def test_a_personal_teams_slug_does_not_come_from_the_email_address(base_url: str) -> None:
    """It shows in the addresses of the team's docs sites: the name given at sign-up, or
    something random, never the address's local part."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        named_email = unique_email("ada.lovelace")
        named = client.post(
            "/api/auth/signup",
            json={"email": named_email, "password": PASSWORD, "name": "Analytical Engines"},
        )
        assert named.status_code == 201, named.text
        named_slug = _slug(client, named.json()["org_id"])
    with httpx.Client(base_url=base_url, timeout=60) as client:
        nameless_email = unique_email("grace.hopper")
        nameless = client.post(
            "/api/auth/signup", json={"email": nameless_email, "password": PASSWORD}
        )
        assert nameless.status_code == 201, nameless.text
        nameless_slug = _slug(client, nameless.json()["org_id"])

    assert named_slug.startswith("analytical-engines")
    assert nameless_slug.startswith("team-")
    for email, slug in ((named_email, named_slug), (nameless_email, nameless_slug)):
        person = slugify(email.split("@")[0].split("-")[0])  # ada-lovelace, grace-hopper
        assert person not in slug, (email, slug)


def test_existing_members_keep_their_team_when_its_slug_changes(make_user: Users) -> None:
    owner, editor = make_user("owner"), make_user("editor")
    org_id = org_id_of(owner)
    join_team(owner, org_id, editor, "editor")
    new = f"renamed-{secrets.token_hex(3)}"

    assert owner.patch(f"/api/orgs/{org_id}", json={"slug": new}).status_code == 200

    teams = {o["id"]: o for o in editor.get("/api/orgs").json()}
    assert teams[org_id]["slug"] == new and teams[org_id]["role"] == "editor"
    assert email_of(editor) in {m["email"] for m in owner.get(f"/api/orgs/{org_id}/members").json()}
