"""API tokens: created once, listed without their value, used as Bearer, revoked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from reeldocs.core.security import API_TOKEN_PREFIX
from tests.auth.accounts import email_of, user_id_of
from tests.auth.expect import assert_error


def bearer_get(base_url: str, token: str, path: str) -> httpx.Response:
    return httpx.get(f"{base_url}{path}", headers={"Authorization": f"Bearer {token}"})


def test_token_lifecycle(user: httpx.Client, base_url: str) -> None:
    created = user.post("/api/tokens", json={"name": "  deploy script "})

    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "name", "token"}
    assert body["name"] == "deploy script"
    assert body["token"].startswith(API_TOKEN_PREFIX)
    assert len(body["token"]) > len(API_TOKEN_PREFIX) + 30

    [listed] = user.get("/api/tokens").json()
    assert set(listed) == {"id", "name", "created_at", "last_used_at"}
    assert listed["id"] == body["id"]
    assert listed["last_used_at"] is None
    assert body["token"] not in user.get("/api/tokens").text  # shown once, never again

    used = bearer_get(base_url, body["token"], "/api/auth/session")
    assert used.status_code == 200
    assert used.json()["user_id"] == user_id_of(user)
    assert used.json()["email"] == email_of(user)

    [after_use] = user.get("/api/tokens").json()
    last_used = datetime.fromisoformat(after_use["last_used_at"])
    assert abs(datetime.now(UTC) - last_used) < timedelta(minutes=1)

    revoked = user.delete(f"/api/tokens/{body['id']}", headers={"Content-Type": "application/json"})
    assert revoked.status_code == 204
    assert user.get("/api/tokens").json() == []
    detail = assert_error(bearer_get(base_url, body["token"], "/api/orgs"), 401, "NotAuthenticated")
    assert "revoked" in detail

    again = user.delete(f"/api/tokens/{body['id']}", headers={"Content-Type": "application/json"})
    assert_error(again, 404, "NotFound")


def test_a_token_can_manage_tokens_itself(user: httpx.Client, base_url: str) -> None:
    token = user.post("/api/tokens", json={"name": "first"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    second = httpx.post(f"{base_url}/api/tokens", json={"name": "second"}, headers=headers)

    assert second.status_code == 201
    names = {t["name"] for t in user.get("/api/tokens").json()}
    assert names == {"first", "second"}


def test_users_cannot_see_or_revoke_each_others_tokens(
    make_user: Callable[..., httpx.Client], base_url: str
) -> None:
    owner, other = make_user("owner"), make_user("other")
    created = owner.post("/api/tokens", json={"name": "private"}).json()

    assert other.get("/api/tokens").json() == []
    stolen = other.delete(
        f"/api/tokens/{created['id']}", headers={"Content-Type": "application/json"}
    )

    assert_error(stolen, 404, "NotFound")
    assert bearer_get(base_url, created["token"], "/api/orgs").status_code == 200
    assert [t["id"] for t in owner.get("/api/tokens").json()] == [created["id"]]


def test_made_up_tokens_and_schemes_are_refused(base_url: str) -> None:
    assert_error(bearer_get(base_url, "rdk_" + "x" * 43, "/api/orgs"), 401, "NotAuthenticated")
    basic = httpx.get(f"{base_url}/api/orgs", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(basic, 401, "NotAuthenticated")


def test_a_token_name_is_required(user: httpx.Client) -> None:
    assert_error(user.post("/api/tokens", json={"name": ""}), 422, "ValidationError")
    blank = user.post("/api/tokens", json={"name": "   "})
    assert "name" in assert_error(blank, 422, "ValidationError")
    assert_error(user.post("/api/tokens", json={}), 422, "ValidationError")
