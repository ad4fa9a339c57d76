"""What the OpenAPI document says of errors, checked against what the app answers: for a
sample of operations, each error status is brought about for real, and must be one the
document gives for that operation, with a body of the documented schema."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from reeldocs.jobs.lifecycle import JobStatus
from reeldocs.jobs.schemas import JOB_STATUSES
from tests.auth.accounts import email_of, org_id_of
from tests.auth.expect import assert_error
from tests.conftest import PASSWORD, configured_server, unique_email
from tests.support.api import bearer_client, create_project, upload_video
from tests.support.media_factory import make_slide_video, make_text_file

NOBODY = "00000000-0000-4000-8000-000000000000"

Client = Callable[..., httpx.Client]


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    answer = httpx.get(f"{base_url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def assert_documented(
    document: dict[str, Any], method: str, path: str, answer: httpx.Response, kind: str
) -> None:
    """`answer` is an error of `kind` that the document gives for `method path`."""
    assert_error(answer, answer.status_code, kind)
    responses = document["paths"][path][method.lower()]["responses"]
    status = str(answer.status_code)
    assert status in responses, f"{method} {path} answered {status}, documented: {list(responses)}"
    schema = responses[status]["content"]["application/json"]["schema"]
    jsonschema.validate(answer.json(), {**schema, "components": document["components"]})


def test_the_document_has_one_error_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[1]
                assert name in ("ErrorOut", "ProcessConflictOut"), (method, path, status)
                assert {"error", "detail"} <= set(schemas[name]["required"])


def test_every_looked_up_thing_may_be_missing_or_malformed(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "{" in path:
                assert {"404", "422"} <= set(operation["responses"]), (method, path)
            if operation.get("security"):
                assert "401" in operation["responses"], (method, path)


def test_documented_job_statuses_are_the_lifecycle_s() -> None:
    assert set(JOB_STATUSES) == {status.value for status in JobStatus}


def test_signed_out_wrong_team_and_invalid_answers_are_documented(
    document: dict[str, Any], base_url: str, make_user: Client
) -> None:
    owner, stranger = make_user("owner"), make_user("stranger")
    project = create_project(owner)
    anonymous = httpx.Client(base_url=base_url, timeout=60)
    answers = [
        ("GET", "/api/projects", anonymous.get("/api/projects"), "NotAuthenticated"),
        (
            "GET",
            "/api/jobs/{job_id}",
            anonymous.get(f"/api/jobs/{NOBODY}"),
            "NotAuthenticated",
        ),
        (
            "GET",
            "/api/projects/{project_id}/videos",
            stranger.get(f"/api/projects/{project['id']}/videos"),
            "NotFound",
        ),
        ("GET", "/api/jobs/{job_id}", owner.get(f"/api/jobs/{NOBODY}"), "NotFound"),
        (
            "PATCH",
            "/api/projects/{project_id}",
            owner.patch(f"/api/projects/{project['id']}", json={"name": ""}),
            "ValidationError",
        ),
        (
            "POST",
            "/api/projects",
            owner.post("/api/projects", json={"name": "x" * (600 * 1024)}),
            "PayloadTooLarge",
        ),
        (
            "POST",
            "/api/projects",
            owner.post("/api/projects", json={"name": "Elsewhere", "org_id": NOBODY}),
            "NotFound",
        ),
        (
            "POST",
            "/api/tokens",
            # a cookie request that is not JSON must carry its CSRF token
            owner.post("/api/tokens", content="name=x", headers={"Content-Type": "text/plain"}),
            "Forbidden",
        ),
        (
            "POST",
            "/api/auth/login",
            anonymous.post("/api/auth/login", json={"email": email_of(owner), "password": "no"}),
            "NotAuthenticated",
        ),
        (
            "POST",
            "/api/auth/signup",
            anonymous.post(
                "/api/auth/signup", json={"email": email_of(owner), "password": PASSWORD}
            ),
            "Conflict",
        ),
        (
            "GET",
            "/api/videos/{video_id}",
            owner.get("/api/videos/not-an-id"),
            "ValidationError",
        ),
    ]
    anonymous.close()
    for method, path, answer, kind in answers:
        assert_documented(document, method, path, answer, kind)


def test_role_and_conflict_answers_are_documented(
    document: dict[str, Any], make_user: Client, tmp_path: Path
) -> None:
    owner, viewer = make_user("owner"), make_user("viewer")
    org_id = org_id_of(owner)
    invited = owner.post(
        f"/api/orgs/{org_id}/members", json={"email": email_of(viewer), "role": "viewer"}
    )
    assert invited.status_code == 201, invited.text
    accepted = viewer.post(f"/api/invitations/{invited.json()['invitation_id']}/accept", json={})
    assert accepted.status_code == 200, accepted.text
    project = create_project(owner)
    owner_api = bearer_client(owner)  # multipart uploads are not JSON: no CSRF token needed
    video = upload_video(owner_api, project["id"], make_slide_video(tmp_path / "a.mp4", ["A"], 0.5))
    first = owner.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]})
    assert first.status_code == 202, first.text
    text = make_text_file(tmp_path / "notes.mp4")

    answers = [
        (
            "PATCH",
            "/api/projects/{project_id}",
            viewer.patch(f"/api/projects/{project['id']}", json={"name": "Mine now"}),
            "Forbidden",
        ),
        (
            "GET",
            "/api/orgs/{org_id}/invitations",
            viewer.get(f"/api/orgs/{org_id}/invitations"),
            "Forbidden",
        ),
        (
            "POST",
            "/api/videos/process",
            owner.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]}),
            "Conflict",
        ),
        (
            "POST",
            "/api/jobs/{job_id}/retry",
            owner.post(f"/api/jobs/{first.json()['job_id']}/retry", json={}),
            "Conflict",
        ),
        (
            "PATCH",
            "/api/orgs/{org_id}/members/{user_id}",
            owner.patch(
                f"/api/orgs/{org_id}/members/{owner.user_id}",  # type: ignore[attr-defined]
                json={"role": "editor"},
            ),
            "Conflict",
        ),
        (
            "POST",
            "/api/projects/{project_id}/videos",
            owner_api.post(
                f"/api/projects/{project['id']}/videos",
                files={"file": ("notes.mp4", text.read_bytes(), "video/mp4")},
            ),
            "UnsupportedMedia",
        ),
    ]
    owner_api.close()
    for method, path, answer, kind in answers:
        assert_documented(document, method, path, answer, kind)
    # the conflict names the job at work, as the document says it does
    assert answers[2][2].json()["job_id"] == first.json()["job_id"]


def test_too_many_sign_ups_is_documented(
    document: dict[str, Any], settings: Settings, db_urls: DatabaseUrls
) -> None:
    address = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    with (
        configured_server(
            settings, db_urls, trusted_proxies=("127.0.0.1",), signups_per_hour=1
        ) as server,
        httpx.Client(
            base_url=server.url, timeout=60, headers={"X-Forwarded-For": address}
        ) as client,
    ):
        answers = [
            client.post(
                "/api/auth/signup", json={"email": unique_email("limited"), "password": PASSWORD}
            )
            for _ in range(2)
        ]
    assert answers[0].status_code == 201, answers[0].text
    assert_documented(document, "POST", "/api/auth/signup", answers[1], "TooManyRequests")


def test_an_unknown_token_is_documented(document: dict[str, Any], base_url: str) -> None:
    with httpx.Client(
        base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {uuid.uuid4().hex}"}
    ) as client:
        answer = client.post("/api/auth/logout")
    assert_documented(document, "POST", "/api/auth/logout", answer, "NotAuthenticated")
