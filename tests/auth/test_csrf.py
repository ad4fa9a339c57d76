"""The CSRF rule: cookie-authenticated changes are JSON or carry the token; Bearer needs none."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from reeldocs.core import security
from reeldocs.core.security import SESSION_COOKIE
from reeldocs.core.settings import Settings
from tests.auth.accounts import email_of, user_id_of
from tests.auth.expect import assert_error
from tests.conftest import sign_up


def csrf_of(client: httpx.Client) -> str:
    answer = client.get("/api/auth/session")
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["csrf_token"]
    return token


def make_token(client: httpx.Client, name: str = "csrf test") -> dict[str, str]:
    answer = client.post("/api/tokens", json={"name": name})
    assert answer.status_code == 201, answer.text
    created: dict[str, str] = answer.json()
    return created


@pytest.fixture(scope="module")
def shared_user(base_url: str) -> Iterator[httpx.Client]:
    """For tests that are refused or only read: nothing they do can affect another."""
    client = sign_up(base_url, "csrf")
    yield client
    client.close()


@pytest.fixture
def bearer(base_url: str, user: httpx.Client) -> Iterator[httpx.Client]:
    token = make_token(user)["token"]
    with httpx.Client(
        base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def test_session_endpoint_names_the_user_and_gives_the_csrf_token(
    shared_user: httpx.Client, settings: Settings
) -> None:
    user = shared_user
    answer = user.get("/api/auth/session")

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["user_id"] == user_id_of(user)
    assert body["email"] == email_of(user)
    assert body["name"] == email_of(user).split("@")[0]
    expected = security.csrf_token(settings.secret_key, user.cookies[SESSION_COOKIE])
    assert body["csrf_token"] == expected


def test_session_endpoint_needs_a_login(base_url: str) -> None:
    assert_error(httpx.get(f"{base_url}/api/auth/session"), 401, "NotAuthenticated")


def test_session_endpoint_with_a_bearer_token_has_no_csrf_token(bearer: httpx.Client) -> None:
    answer = bearer.get("/api/auth/session")

    assert answer.status_code == 200
    assert answer.json()["csrf_token"] is None


def test_each_session_has_its_own_csrf_token(make_user: Callable[..., httpx.Client]) -> None:
    first, second = make_user(), make_user()
    assert csrf_of(first) != csrf_of(second)
    # Another session's token does not pass.
    token_id = make_token(first)["id"]
    answer = first.delete(f"/api/tokens/{token_id}", headers={"X-CSRF-Token": csrf_of(second)})
    assert_error(answer, 403, "Forbidden")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("name=forged", "application/x-www-form-urlencoded"),
        ("------x--\r\n", "multipart/form-data; boundary=----x"),
        ('{"name": "forged"}', "text/plain"),
    ],
)
def test_cookie_post_that_a_cross_site_form_could_send_is_refused(
    shared_user: httpx.Client, content: str, content_type: str
) -> None:
    answer = shared_user.post(
        "/api/tokens", content=content, headers={"Content-Type": content_type}
    )

    assert "security token" in assert_error(answer, 403, "Forbidden")
    # Nothing was created.
    assert shared_user.get("/api/tokens").json() == []


def test_cookie_post_with_json_needs_no_csrf_token(user: httpx.Client) -> None:
    answer = user.post(
        "/api/tokens",
        content='{"name": "json"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert answer.status_code == 201, answer.text


def test_cookie_delete_without_a_body_needs_the_token(user: httpx.Client) -> None:
    token_id = make_token(user)["id"]

    refused = user.delete(f"/api/tokens/{token_id}")
    wrong = user.delete(f"/api/tokens/{token_id}", headers={"X-CSRF-Token": "0" * 64})

    assert_error(refused, 403, "Forbidden")
    assert_error(wrong, 403, "Forbidden")
    assert [t["id"] for t in user.get("/api/tokens").json()] == [token_id]

    accepted = user.delete(f"/api/tokens/{token_id}", headers={"X-CSRF-Token": csrf_of(user)})

    assert accepted.status_code == 204
    assert user.get("/api/tokens").json() == []


def test_csrf_token_as_a_form_field_is_accepted(user: httpx.Client) -> None:
    token_id = make_token(user)["id"]

    answer = user.request(
        "DELETE", f"/api/tokens/{token_id}", data={security.CSRF_FIELD: csrf_of(user)}
    )

    assert answer.status_code == 204, answer.text


def test_bearer_requests_need_no_csrf_token(bearer: httpx.Client) -> None:
    created = bearer.post(
        "/api/projects",
        content='{"name": "Scripted"}',
        headers={"Content-Type": "text/plain"},
    )
    # Not refused for CSRF: the body is simply not JSON the API can read.
    assert_error(created, 422, "ValidationError")

    project = bearer.post("/api/projects", json={"name": "Scripted"}).json()
    deleted = bearer.delete(f"/api/projects/{project['id']}")

    assert deleted.status_code == 204
