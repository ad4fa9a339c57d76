"""Logging in and out, and the brake on password guessing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from reeldocs.auth.service import FAILURES_PER_ADDRESS_AND_ACCOUNT
from reeldocs.core.security import SESSION_COOKIE
from tests.auth.accounts import email_of, user_id_of
from tests.auth.cookies import session_cookie_attributes
from tests.auth.expect import assert_error
from tests.conftest import PASSWORD, unique_email


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def test_login_answers_the_user_id_and_sets_a_working_cookie(
    user: httpx.Client, anonymous: httpx.Client
) -> None:
    answer = anonymous.post("/api/auth/login", json={"email": email_of(user), "password": PASSWORD})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"user_id": user_id_of(user)}
    cookie = session_cookie_attributes(answer)
    assert "httponly" in cookie and cookie["samesite"].lower() == "lax"
    assert "secure" not in cookie
    # A new session, not the sign-up one.
    assert cookie["value"] != user.cookies[SESSION_COOKIE]
    assert anonymous.get("/api/orgs").status_code == 200


def test_login_ignores_case_and_spaces_in_the_email(
    user: httpx.Client, anonymous: httpx.Client
) -> None:
    email = f"  {email_of(user).upper()} "

    answer = anonymous.post("/api/auth/login", json={"email": email, "password": PASSWORD})

    assert answer.status_code == 200, answer.text


def test_wrong_password_and_unknown_email_get_the_same_401(
    user: httpx.Client, anonymous: httpx.Client
) -> None:
    wrong = anonymous.post(
        "/api/auth/login", json={"email": email_of(user), "password": "not the password"}
    )
    unknown = anonymous.post(
        "/api/auth/login", json={"email": unique_email("nobody"), "password": PASSWORD}
    )

    # Same answer either way: the API does not say which addresses have accounts.
    assert assert_error(wrong, 401, "NotAuthenticated") == assert_error(
        unknown, 401, "NotAuthenticated"
    )
    assert "set-cookie" not in wrong.headers
    assert "set-cookie" not in unknown.headers


def test_repeated_failures_from_one_address_refuse_it_even_the_right_password(
    make_user: Callable[..., httpx.Client], anonymous: httpx.Client
) -> None:
    victim = make_user("victim")
    bystander = make_user("bystander")
    for _ in range(FAILURES_PER_ADDRESS_AND_ACCOUNT):
        failed = anonymous.post(
            "/api/auth/login", json={"email": email_of(victim), "password": "guess guess"}
        )
        assert failed.status_code == 401

    locked = anonymous.post(
        "/api/auth/login", json={"email": email_of(victim), "password": PASSWORD}
    )

    detail = assert_error(locked, 429, "TooManyRequests")
    assert "15 minutes" in detail
    assert "set-cookie" not in locked.headers
    # Only that account from that address is refused; existing sessions keep working.
    other = anonymous.post(
        "/api/auth/login", json={"email": email_of(bystander), "password": PASSWORD}
    )
    assert other.status_code == 200
    assert victim.get("/api/orgs").status_code == 200


def test_logout_ends_the_session_for_good(user: httpx.Client) -> None:
    old_cookie = user.cookies[SESSION_COOKIE]
    csrf = user.get("/api/auth/session").json()["csrf_token"]

    answer = user.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})

    assert answer.status_code == 204
    assert SESSION_COOKIE not in user.cookies  # the server told the browser to drop it
    # Replaying the old cookie does not work either: the session is gone server-side.
    user.cookies.set(SESSION_COOKIE, old_cookie)
    assert_error(user.get("/api/orgs"), 401, "NotAuthenticated")
    assert_error(user.get("/api/tokens"), 401, "NotAuthenticated")


def test_another_site_cannot_log_the_user_out(user: httpx.Client) -> None:
    # What a hidden form on another site would send: the cookie, a form body, no token.
    forged = user.post("/api/auth/logout", data={"next": "/"})

    assert_error(forged, 403, "Forbidden")
    assert user.get("/api/orgs").status_code == 200


def test_logout_without_a_session_is_harmless(anonymous: httpx.Client) -> None:
    assert anonymous.post("/api/auth/logout").status_code == 204
