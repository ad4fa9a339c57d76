"""Organisations and members: who may manage whom, and what each role may do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.auth.accounts import csrf_headers, email_of, org_id_of, user_id_of
from tests.auth.expect import assert_error
from tests.conftest import sign_up, unique_email


@dataclass
class Team:
    """An owner's organisation, plus people in and around it."""

    owner: httpx.Client
    org_id: str
    member: httpx.Client  # not a member until a test adds them
    outsider: httpx.Client


@pytest.fixture(scope="module")
def outsider(base_url: str) -> Iterator[httpx.Client]:
    """Shared by the module's tests: it only ever knocks on doors and is turned away."""
    client = sign_up(base_url, "outsider")
    yield client
    client.close()


@pytest.fixture
def team(make_user: Callable[..., httpx.Client], outsider: httpx.Client) -> Team:
    # Names chosen so the owner's organisation sorts before the member's own.
    owner = make_user("aaa-owner")
    return Team(owner, org_id_of(owner), make_user("zzz-member"), outsider)


def add(team: Team, who: httpx.Client, role: str) -> httpx.Response:
    """The owner invites `who`, who accepts: the owner's answer (the invitation)."""
    invited = invite(team, email_of(who), role)
    if invited.status_code == 201:
        accepted = who.post(f"/api/invitations/{invited.json()['invitation_id']}/accept", json={})
        assert accepted.status_code == 200, accepted.text
    return invited


def invite(team: Team, email: str, role: str) -> httpx.Response:
    return team.owner.post(f"/api/orgs/{team.org_id}/members", json={"email": email, "role": role})


def roles_of(client: httpx.Client) -> dict[str, str]:
    answer = client.get("/api/orgs")
    assert answer.status_code == 200, answer.text
    return {org["id"]: org["role"] for org in answer.json()}


def test_owner_invites_the_member_accepts_then_changes_and_removes(team: Team) -> None:
    invited = invite(team, email_of(team.member).upper(), "editor")

    assert invited.status_code == 201, invited.text
    invitation = invited.json()
    assert set(invitation) == {"invitation_id", "email", "role", "status"}
    assert invitation["email"] == email_of(team.member)
    assert (invitation["role"], invitation["status"]) == ("editor", "pending")
    # nothing changes until the person accepts
    assert team.org_id not in roles_of(team.member)
    pending = team.owner.get(f"/api/orgs/{team.org_id}/invitations").json()
    assert [(i["id"], i["email"], i["role"]) for i in pending] == [
        (invitation["invitation_id"], email_of(team.member), "editor")
    ]
    received = team.member.get("/api/invitations").json()
    assert len(received) == 1 and received[0]["id"] == invitation["invitation_id"]
    assert received[0]["org_id"] == team.org_id and received[0]["role"] == "editor"
    assert received[0]["org_name"] and received[0]["invited_by"]

    accepted = team.member.post(f"/api/invitations/{invitation['invitation_id']}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"org_id": team.org_id, "role": "editor"}
    assert team.member.get("/api/invitations").json() == []
    assert team.owner.get(f"/api/orgs/{team.org_id}/invitations").json() == []
    assert roles_of(team.member) == {org_id_of(team.member): "owner", team.org_id: "editor"}
    members = team.member.get(f"/api/orgs/{team.org_id}/members").json()
    assert {(m["email"], m["role"]) for m in members} == {
        (email_of(team.owner), "owner"),
        (email_of(team.member), "editor"),
    }

    changed = team.owner.patch(
        f"/api/orgs/{team.org_id}/members/{user_id_of(team.member)}", json={"role": "viewer"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "viewer"
    assert roles_of(team.member)[team.org_id] == "viewer"

    removed = team.owner.delete(
        f"/api/orgs/{team.org_id}/members/{user_id_of(team.member)}",
        headers=csrf_headers(team.owner),
    )
    assert removed.status_code == 204
    assert team.org_id not in roles_of(team.member)
    assert_error(team.member.get(f"/api/orgs/{team.org_id}/members"), 404, "NotFound")


def test_any_address_can_be_invited_and_nothing_tells_whether_it_has_an_account(
    team: Team,
) -> None:
    ghost = invite(team, unique_email("ghost"), "viewer")
    known = invite(team, email_of(team.outsider), "viewer")
    # the same answer, whether the address has an account or not
    assert ghost.status_code == known.status_code == 201
    assert set(ghost.json()) == set(known.json()) == {"invitation_id", "email", "role", "status"}
    # inviting the same address again changes the pending invitation's role
    again = invite(team, email_of(team.outsider), "editor")
    assert again.json()["invitation_id"] == known.json()["invitation_id"]
    pending = {
        i["email"]: i["role"] for i in team.owner.get(f"/api/orgs/{team.org_id}/invitations").json()
    }
    assert pending[email_of(team.outsider)] == "editor"


def test_inviting_refuses_members_bad_addresses_and_made_up_roles(team: Team) -> None:
    assert_error(invite(team, email_of(team.member), "admin"), 422, "ValidationError")
    assert "valid e-mail" in assert_error(
        invite(team, "not-an-address", "viewer"), 422, "ValidationError"
    )

    assert add(team, team.member, "viewer").status_code == 201
    again = invite(team, email_of(team.member), "editor")

    assert "already a member" in assert_error(again, 409, "Conflict")
    assert roles_of(team.member)[team.org_id] == "viewer"


def test_an_invitation_is_declined_revoked_and_only_its_addressee_answers_it(
    team: Team,
) -> None:
    first = invite(team, email_of(team.member), "editor").json()["invitation_id"]
    # someone else cannot accept or decline it: for them it does not exist
    for answer in ("accept", "decline"):
        refused = team.outsider.post(f"/api/invitations/{first}/{answer}", json={})
        assert_error(refused, 404, "NotFound")
    declined = team.member.post(f"/api/invitations/{first}/decline", json={})
    assert declined.status_code == 204
    assert team.org_id not in roles_of(team.member)
    assert_error(team.member.post(f"/api/invitations/{first}/accept", json={}), 404, "NotFound")

    second = invite(team, email_of(team.member), "viewer").json()["invitation_id"]
    revoked = team.owner.delete(
        f"/api/orgs/{team.org_id}/invitations/{second}", headers=csrf_headers(team.owner)
    )
    assert revoked.status_code == 204
    assert team.member.get("/api/invitations").json() == []
    assert_error(team.member.post(f"/api/invitations/{second}/accept", json={}), 404, "NotFound")
    assert team.org_id not in roles_of(team.member)


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_cannot_manage_members(team: Team, role: str) -> None:
    assert add(team, team.member, role).status_code == 201
    base = f"/api/orgs/{team.org_id}/members"
    owner_id = user_id_of(team.owner)

    attempts = [
        team.member.post(base, json={"email": email_of(team.outsider), "role": "owner"}),
        team.member.patch(f"{base}/{user_id_of(team.member)}", json={"role": "owner"}),
        team.member.patch(f"{base}/{owner_id}", json={"role": "viewer"}),
        team.member.delete(f"{base}/{owner_id}", headers=csrf_headers(team.member)),
    ]

    for attempt in attempts:
        assert "owners" in assert_error(attempt, 403, "Forbidden")
    assert roles_of(team.member)[team.org_id] == role
    assert roles_of(team.owner)[team.org_id] == "owner"
    # Reading the member list is fine for any member.
    assert team.member.get(base).status_code == 200


def test_outsiders_and_non_members_get_404(team: Team) -> None:
    base = f"/api/orgs/{team.org_id}/members"
    owner_id = user_id_of(team.owner)

    attempts = [
        team.outsider.get(base),
        team.outsider.post(base, json={"email": email_of(team.outsider), "role": "owner"}),
        team.outsider.patch(f"{base}/{owner_id}", json={"role": "viewer"}),
        team.outsider.delete(f"{base}/{owner_id}", headers=csrf_headers(team.outsider)),
    ]

    for attempt in attempts:
        assert_error(attempt, 404, "NotFound")
    assert team.org_id not in roles_of(team.outsider)
    assert roles_of(team.owner)[team.org_id] == "owner"
    # The owner changing someone who is not in the team gets 404 too.
    path = f"{base}/{user_id_of(team.outsider)}"
    assert_error(team.owner.patch(path, json={"role": "viewer"}), 404, "NotFound")
    assert_error(team.owner.delete(path, headers=csrf_headers(team.owner)), 404, "NotFound")


def test_the_last_owner_can_neither_leave_nor_step_down(team: Team) -> None:
    me = f"/api/orgs/{team.org_id}/members/{user_id_of(team.owner)}"

    demoted = team.owner.patch(me, json={"role": "editor"})
    left = team.owner.delete(me, headers=csrf_headers(team.owner))

    assert "owner" in assert_error(demoted, 409, "Conflict")
    assert "owner" in assert_error(left, 409, "Conflict")
    assert roles_of(team.owner)[team.org_id] == "owner"

    # With a second owner, the first may step down, and the other owner may remove them.
    assert add(team, team.member, "owner").status_code == 201
    assert team.owner.patch(me, json={"role": "viewer"}).status_code == 200
    assert team.owner.delete(me, headers=csrf_headers(team.owner)).status_code == 403
    assert team.member.delete(me, headers=csrf_headers(team.member)).status_code == 204
    assert team.org_id not in roles_of(team.owner)
    # Now the member is the last owner in turn.
    member_me = f"/api/orgs/{team.org_id}/members/{user_id_of(team.member)}"
    assert_error(team.member.patch(member_me, json={"role": "viewer"}), 409, "Conflict")


def test_projects_default_to_the_callers_own_org_even_in_other_teams(team: Team) -> None:
    assert add(team, team.member, "editor").status_code == 201

    created = team.member.post("/api/projects", json={"name": "Mine"})

    assert created.status_code == 201, created.text
    assert created.json()["org_id"] == org_id_of(team.member)


def test_viewers_read_but_cannot_change_projects(team: Team) -> None:
    project = team.owner.post("/api/projects", json={"name": "Handbook"}).json()
    assert add(team, team.member, "editor").status_code == 201
    assert (
        team.owner.patch(
            f"/api/orgs/{team.org_id}/members/{user_id_of(team.member)}", json={"role": "viewer"}
        ).json()["role"]
        == "viewer"
    )
    path = f"/api/projects/{project['id']}"

    create = team.member.post("/api/projects", json={"name": "More", "org_id": team.org_id})
    rename = team.member.patch(path, json={"name": "Renamed"})
    delete = team.member.delete(path, headers=csrf_headers(team.member))

    for attempt in (create, rename, delete):
        assert "viewer" in assert_error(attempt, 403, "Forbidden")
    visible = {p["id"]: p for p in team.member.get("/api/projects").json()}
    assert visible[project["id"]]["name"] == "Handbook"
    assert team.member.get(f"{path}/videos").status_code == 200
    assert [p["name"] for p in team.owner.get("/api/projects").json()] == ["Handbook"]


def test_outsiders_get_404_for_another_orgs_projects(team: Team) -> None:
    project = team.owner.post("/api/projects", json={"name": "Secret"}).json()
    path = f"/api/projects/{project['id']}"

    rename = team.outsider.patch(path, json={"name": "Mine now"})
    delete = team.outsider.delete(path, headers=csrf_headers(team.outsider))
    create = team.outsider.post("/api/projects", json={"name": "In", "org_id": team.org_id})
    videos = team.outsider.get(f"{path}/videos")

    for attempt in (rename, delete, create, videos):
        assert_error(attempt, 404, "NotFound")
    assert team.outsider.get("/api/projects").json() == []
    assert [p["name"] for p in team.owner.get("/api/projects").json()] == ["Secret"]


def _at_once(*requests: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Send the requests from threads that start together; their answers, in order.
    (Each request builds its headers first: the CSRF look-up is a request of its own.)"""
    import threading

    barrier = threading.Barrier(len(requests))
    answers: list[httpx.Response | None] = [None] * len(requests)

    def send(index: int) -> None:
        request = requests[index]
        barrier.wait()
        answers[index] = request()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answer in answers if answer is not None]


def _set_roles(db_url: str, org_id: str, roles: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(db_url) as conn:
        for user_id, role in roles.items():
            conn.execute(
                "INSERT INTO organization_members (org_id, user_id, role) VALUES (%s, %s, %s) "
                "ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role",
                (org_id, user_id, role),
            )


@pytest.mark.parametrize("change", ["role", "remove"])
def test_an_owner_demoted_while_changing_someone_gets_403_never_a_server_error(
    make_user: Callable[..., httpx.Client], db_url: str, change: str
) -> None:
    """One owner demotes the other while that one changes (or removes) a third member: the
    later of the two finds, once it holds the locks, that its caller is no longer an owner."""
    first, second, third = make_user("owner-one"), make_user("owner-two"), make_user("editor")
    org_id = org_id_of(first)
    one, two, three = user_id_of(first), user_id_of(second), user_id_of(third)
    outcomes: list[tuple[int, int]] = []
    for _ in range(25):
        _set_roles(db_url, org_id, {one: "owner", two: "owner", three: "editor"})
        answers = _at_once(
            lambda: first.patch(
                f"/api/orgs/{org_id}/members/{two}",
                json={"role": "editor"},
                headers=csrf_headers(first),
            ),
            lambda: (
                second.patch(
                    f"/api/orgs/{org_id}/members/{three}",
                    json={"role": "viewer"},
                    headers=csrf_headers(second),
                )
                if change == "role"
                else second.delete(
                    f"/api/orgs/{org_id}/members/{three}", headers=csrf_headers(second)
                )
            ),
        )
        assert answers[0].status_code == 200, answers[0].text
        assert answers[1].status_code in (200, 204, 403), answers[1].text
        if answers[1].status_code == 403:
            assert "owner" in answers[1].json()["detail"]
        outcomes.append((answers[0].status_code, answers[1].status_code))
    assert outcomes
