"""Signing up over the real HTTP API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.auth.cookies import session_cookie_attributes
from tests.auth.expect import assert_error
from tests.conftest import PASSWORD, LiveServer, configured_server, unique_email


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def test_signup_answers_ids_and_sets_a_session_cookie(client: httpx.Client) -> None:
    answer = client.post(
        "/api/auth/signup", json={"email": unique_email(), "password": PASSWORD, "name": "Ada"}
    )

    assert answer.status_code == 201, answer.text
    assert set(answer.json()) == {"user_id", "org_id"}
    cookie = session_cookie_attributes(answer)
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert cookie["path"] == "/"
    # The cookie is a working session.
    assert client.get("/api/orgs").status_code == 200


def test_signup_through_a_trusted_https_proxy_sets_a_secure_cookie(
    settings: Settings, db_urls: DatabaseUrls
) -> None:
    with (
        configured_server(settings, db_urls, trusted_proxies=("127.0.0.1",)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        answer = client.post(
            "/api/auth/signup",
            json={"email": unique_email(), "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
        )

    assert answer.status_code == 201, answer.text
    cookie = session_cookie_attributes(answer)
    assert "secure" in cookie
    assert "httponly" in cookie
    assert cookie["samesite"].lower() == "lax"


def test_a_forwarded_proto_from_anyone_else_is_not_believed(client: httpx.Client) -> None:
    # No proxy is configured: the header is the client's own claim, and changes nothing.
    answer = client.post(
        "/api/auth/signup",
        json={"email": unique_email(), "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )

    assert answer.status_code == 201, answer.text
    assert "secure" not in session_cookie_attributes(answer)


def test_signup_creates_a_personal_org_the_user_owns(client: httpx.Client) -> None:
    answer = client.post("/api/auth/signup", json={"email": unique_email(), "password": PASSWORD})
    org_id = answer.json()["org_id"]

    orgs = client.get("/api/orgs")

    assert orgs.status_code == 200
    [org] = orgs.json()
    assert org["id"] == org_id
    assert org["role"] == "owner"
    assert org["slug"] and org["name"]


def test_signing_up_twice_with_one_address_is_a_conflict_whatever_the_case(
    client: httpx.Client,
) -> None:
    email = unique_email()
    first = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert first.status_code == 201

    same = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    shouted = client.post("/api/auth/signup", json={"email": email.upper(), "password": PASSWORD})

    assert "log in" in assert_error(same, 409, "Conflict")
    assert "log in" in assert_error(shouted, 409, "Conflict")


@pytest.mark.parametrize(
    ("email", "password", "mentions"),
    [
        ("not-an-address", PASSWORD, "e-mail"),
        ("", PASSWORD, "e-mail"),
        ("someone@example.com", "short", "8 characters"),
    ],
)
def test_signup_refuses_a_bad_email_or_short_password(
    client: httpx.Client, email: str, password: str, mentions: str
) -> None:
    if "@" in email:
        email = unique_email()

    answer = client.post("/api/auth/signup", json={"email": email, "password": password})

    assert mentions in assert_error(answer, 422, "ValidationError")
    assert "set-cookie" not in answer.headers


def test_signup_without_a_password_is_a_validation_error(client: httpx.Client) -> None:
    answer = client.post("/api/auth/signup", json={"email": unique_email()})

    assert "password" in assert_error(answer, 422, "ValidationError")


def test_closed_signup_is_refused_with_a_sentence(
    settings: Settings, db_urls: DatabaseUrls
) -> None:
    closed = LiveServer(
        dataclasses.replace(settings, allow_signup=False), db_urls, run_worker=False
    ).start()
    try:
        with httpx.Client(base_url=closed.url, timeout=60) as client:
            email = unique_email()
            answer = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})

            assert "owner" in assert_error(answer, 403, "Forbidden")
            assert "set-cookie" not in answer.headers
            # Nothing was created: the address cannot log in.
            login = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
            assert login.status_code == 401
    finally:
        closed.stop()


def test_two_signups_racing_for_one_address_make_one_account(base_url: str) -> None:
    email = unique_email("race")

    def sign_up() -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            return client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: sign_up(), range(2)))

    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert_error(next(a for a in answers if a.status_code == 409), 409, "Conflict")


# A right-to-left override, a zero-width space, a terminal escape and a bell: each hides or
# reorders what others are shown.
INVISIBLE = ["\u202e", "\u200b", "\x1b[31m", "\x07"]


@pytest.mark.parametrize("character", INVISIBLE)
def test_a_display_name_loses_invisible_characters(client: httpx.Client, character: str) -> None:
    email = unique_email("named")
    answer = client.post(
        "/api/auth/signup",
        json={"email": email, "password": PASSWORD, "name": f"Ada{character} Lovelace"},
    )
    assert answer.status_code == 201, answer.text
    session = client.get("/api/auth/session").json()
    assert session["name"] in ("Ada Lovelace", "Ada [31m Lovelace")
    assert all(ch.isprintable() for ch in session["name"])
    orgs = client.get("/api/orgs").json()
    assert all(ch.isprintable() for org in orgs for ch in org["name"])


@pytest.mark.parametrize("character", INVISIBLE)
def test_an_email_address_with_invisible_characters_is_refused(
    client: httpx.Client, character: str
) -> None:
    email = unique_email("hidden").replace("@", f"{character}@")
    answer = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    detail = assert_error(answer, 422, "ValidationError")
    assert "invisible formatting characters" in detail
