"""Health check and the one shape every error takes, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.auth.expect import assert_error


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def test_healthz_answers_when_the_database_does(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_unknown_api_path_is_a_json_404(anonymous: httpx.Client) -> None:
    detail = assert_error(anonymous.get("/api/no-such-thing"), 404, "NotFound")

    assert detail == "There is nothing at this address."


def test_wrong_method_is_a_json_405(anonymous: httpx.Client) -> None:
    answer = anonymous.put("/api/auth/login", json={})

    assert "PUT" in assert_error(answer, 405, "MethodNotAllowed")
    assert answer.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_address_only_another_route_takes_is_405_not_422(
    anonymous: httpx.Client, user: httpx.Client, method: str
) -> None:
    # /api/videos/{video_id} takes GET and DELETE, but "process" is no video id:
    # /api/videos/process is POST /api/videos/process's address alone
    for client in (user, anonymous):
        answer = client.request(method, "/api/videos/process")

        assert method in assert_error(answer, 405, "MethodNotAllowed")
        assert answer.headers["allow"] == "POST"


def test_a_malformed_id_on_an_address_no_route_takes_is_still_422(
    anonymous: httpx.Client, user: httpx.Client
) -> None:
    answer = user.get("/api/videos/not-a-video-id")

    assert "video_id" in assert_error(answer, 422, "ValidationError")


def test_405_names_every_method_the_address_takes(anonymous: httpx.Client) -> None:
    # GET and POST /api/tokens are two routes; PUT is neither
    answer = anonymous.put("/api/tokens", json={})

    assert answer.status_code == 405
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_page_answering_405_says_which_methods_it_allows(anonymous: httpx.Client) -> None:
    answer = anonymous.delete("/login")

    assert answer.status_code == 405
    assert set(answer.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


@pytest.mark.parametrize(
    "content",
    [
        '{"email": "a@example.com", "password": ',
        "not json at all",
        "[1, 2, 3]",
        "null",
        b"\xc3\x28 not UTF-8",
        "[" * 100_000,
    ],
)
def test_malformed_json_is_a_422_sentence(anonymous: httpx.Client, content: str | bytes) -> None:
    answer = anonymous.post(
        "/api/auth/login", content=content, headers={"Content-Type": "application/json"}
    )

    assert_error(answer, 422, "ValidationError")


def test_wrong_types_name_the_field(anonymous: httpx.Client) -> None:
    answer = anonymous.post("/api/auth/login", json={"email": 42, "password": ["x"]})

    detail = assert_error(answer, 422, "ValidationError")
    assert "email" in detail and "password" in detail


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/orgs"),
        ("GET", "/api/tokens"),
        ("POST", "/api/projects"),
        ("GET", "/api/projects"),
        ("DELETE", "/api/projects/00000000-0000-4000-8000-000000000000"),
        ("GET", "/api/orgs/00000000-0000-4000-8000-000000000000/members"),
    ],
)
def test_unauthenticated_requests_are_a_json_401(
    anonymous: httpx.Client, method: str, path: str
) -> None:
    answer = anonymous.request(method, path, json={"name": "x"} if method == "POST" else None)

    assert "Log in" in assert_error(answer, 401, "NotAuthenticated")


def test_an_expired_or_made_up_session_cookie_is_401(anonymous: httpx.Client) -> None:
    anonymous.cookies.set("reeldocs_session", "made-up")

    assert_error(anonymous.get("/api/orgs"), 401, "NotAuthenticated")


def test_unknown_page_is_an_html_404(anonymous: httpx.Client) -> None:
    answer = anonymous.get("/no-such-page")

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<" in answer.text and "There is nothing at this address." in answer.text
    assert '"error"' not in answer.text


def test_the_openapi_document_lists_the_auth_endpoints(anonymous: httpx.Client) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]

    for path in ("/api/auth/signup", "/api/auth/login", "/api/auth/session", "/api/tokens"):
        assert path in paths


def test_values_the_database_cannot_store_are_a_422_not_a_500(
    anonymous: httpx.Client, user: httpx.Client
) -> None:
    nul_email = {"email": "a\u0000b@example.com", "password": "long enough password"}

    # an address with a control character is refused before it reaches the database
    refused = anonymous.post("/api/auth/signup", json=nul_email)
    assert "control characters" in assert_error(refused, 422, "ValidationError")
    login = anonymous.post("/api/auth/login", json=nul_email)
    assert "cannot be stored" in assert_error(login, 422, "ValidationError")
    # names are cleaned instead: the NUL becomes a space
    for answer in (
        user.post("/api/projects", json={"name": "before\u0000after"}),
        user.post("/api/tokens", json={"name": "before\u0000after"}),
    ):
        assert answer.status_code == 201, answer.text
        assert answer.json()["name"] == "before after"
    # The session that sent them is still fine.
    assert [p["name"] for p in user.get("/api/projects").json()] == ["before after"]
