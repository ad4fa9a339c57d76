"""Reading what the make_user fixture attaches to its clients, with types."""

from __future__ import annotations

import httpx


def email_of(client: httpx.Client) -> str:
    email: str = getattr(client, "email")  # noqa: B009 - set by the make_user fixture
    return email


def user_id_of(client: httpx.Client) -> str:
    user_id: str = getattr(client, "user_id")  # noqa: B009
    return user_id


def org_id_of(client: httpx.Client) -> str:
    org_id: str = getattr(client, "org_id")  # noqa: B009
    return org_id


def csrf_headers(client: httpx.Client) -> dict[str, str]:
    """The header a cookie-session client sends with a body-less change (DELETE, POST)."""
    answer = client.get("/api/auth/session")
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def join_team(owner: httpx.Client, org_id: str, member: httpx.Client, role: str) -> None:
    """`member` becomes `role` in the owner's team: the owner invites, the member accepts."""
    invited = owner.post(
        f"/api/orgs/{org_id}/members", json={"email": email_of(member), "role": role}
    )
    assert invited.status_code == 201, invited.text
    accepted = member.post(f"/api/invitations/{invited.json()['invitation_id']}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"org_id": org_id, "role": role}
