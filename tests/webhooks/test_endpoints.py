"""Managing a project's webhooks: who may, what is refused, and the secret shown once."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from support.api import bearer_client, create_project

from tests.webhooks.conftest import add_webhook, new_project


@pytest.fixture
def api(user: httpx.Client) -> Iterator[httpx.Client]:
    client = bearer_client(user)
    yield client
    client.close()


def test_an_endpoint_is_created_with_its_secret_shown_once(api: httpx.Client) -> None:
    project_id = new_project(api)
    created = add_webhook(api, project_id, "https://example.com/hooks", events=["job.failed"])
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["job.failed"]
    everything = add_webhook(api, project_id, "https://example.com/all")
    assert everything["events"] == ["job.completed", "job.failed", "job.cancelled"]
    listed = api.get(f"/api/projects/{project_id}/webhooks").json()
    assert [hook["id"] for hook in listed] == [created["id"], everything["id"]]
    assert all("secret" not in hook for hook in listed)
    assert api.get(f"/api/webhooks/{created['id']}/deliveries").json() == []
    assert api.delete(f"/api/webhooks/{created['id']}").status_code == 204
    assert [hook["id"] for hook in api.get(f"/api/projects/{project_id}/webhooks").json()] == [
        everything["id"]
    ]
    assert api.delete(f"/api/webhooks/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9/hooks", "loopback"),
        ("http://localhost:9/hooks", "loopback"),
        ("http://[::1]/hooks", "loopback"),
        ("http://10.1.2.3/hooks", "private"),
        ("http://192.168.0.10/hooks", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("http://0.0.0.0/hooks", "private"),
        ("http://100.64.0.1/hooks", "not a public address"),
    ],
)
def test_private_targets_are_refused_at_creation(api: httpx.Client, url: str, words: str) -> None:
    project_id = new_project(api)
    answer = api.post(f"/api/projects/{project_id}/webhooks", json={"url": url})
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]
    assert "REELDOCS_WEBHOOK_ALLOW_PRIVATE" in answer.json()["detail"]
    assert api.get(f"/api/projects/{project_id}/webhooks").json() == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "not a url", "https://user:pw@example.com/x", "", "https:///x"],
)
def test_addresses_that_are_no_http_address_are_refused(api: httpx.Client, url: str) -> None:
    answer = api.post(f"/api/projects/{new_project(api)}/webhooks", json={"url": url})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].endswith(".")


def test_viewers_see_none_and_other_teams_nothing(
    api: httpx.Client, make_user: Callable[..., httpx.Client]
) -> None:
    project = create_project(api, "Hooks")
    hook = add_webhook(api, project["id"], "https://example.com/hooks")
    viewer = make_user("viewer")
    invited = api.post(
        f"/api/orgs/{project['org_id']}/members",
        json={"email": viewer.email, "role": "viewer"},
    )
    assert invited.status_code == 201, invited.text
    viewer = bearer_client(viewer)
    accepted = viewer.post(f"/api/invitations/{invited.json()['invitation_id']}/accept")
    assert accepted.status_code == 200, accepted.text
    assert viewer.get(f"/api/projects/{project['id']}/webhooks").status_code == 403
    assert viewer.get(f"/api/webhooks/{hook['id']}/deliveries").status_code == 403
    assert viewer.delete(f"/api/webhooks/{hook['id']}").status_code == 403
    refused = viewer.post(
        f"/api/projects/{project['id']}/webhooks", json={"url": "https://example.com/x"}
    )
    assert refused.status_code == 403
    stranger = bearer_client(make_user("stranger"))
    assert stranger.get(f"/api/projects/{project['id']}/webhooks").status_code == 404
    assert stranger.get(f"/api/webhooks/{hook['id']}/deliveries").status_code == 404
    assert stranger.delete(f"/api/webhooks/{hook['id']}").status_code == 404
    assert len(api.get(f"/api/projects/{project['id']}/webhooks").json()) == 1
    viewer.close()
    stranger.close()
