"""The project's webhooks page and the deliveries a finished job's cards show."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.webhooks.conftest import add_webhook, cancelled_job, deliveries, new_project


def _csrf(session: httpx.Client) -> str:
    token: str = session.get("/api/auth/session").json()["csrf_token"]
    return token


def test_the_webhooks_page_adds_shows_the_secret_once_and_deletes(owner: httpx.Client) -> None:
    session: httpx.Client = owner.session  # type: ignore[attr-defined]
    project_id = new_project(owner)
    page = session.get(f"/projects/{project_id}/webhooks")
    assert page.status_code == 200 and "No webhooks yet." in page.text
    assert f'href="/projects/{project_id}/webhooks"' in session.get(f"/projects/{project_id}").text
    added = session.post(
        f"/projects/{project_id}/webhooks",
        data={
            "csrf_token": _csrf(session),
            "url": "http://127.0.0.1:9/hooks",
            "events": ["job.completed", "job.failed"],
        },
    )
    assert added.status_code == 200, added.text
    secret = re.search(r"data-new-secret>(whsec_[^<]+)<", added.text)
    assert secret is not None
    hooks = owner.get(f"/api/projects/{project_id}/webhooks").json()
    assert [(h["url"], h["events"]) for h in hooks] == [
        ("http://127.0.0.1:9/hooks", ["job.completed", "job.failed"])
    ]
    again = session.get(f"/projects/{project_id}/webhooks")
    assert "http://127.0.0.1:9/hooks" in again.text and secret.group(1) not in again.text
    refused = session.post(
        f"/projects/{project_id}/webhooks",
        data={"csrf_token": _csrf(session), "url": "ftp://example.com", "events": ["job.failed"]},
    )
    assert refused.status_code == 422 and "not an http or https address" in refused.text
    deleted = session.post(
        f"/projects/{project_id}/webhooks/{hooks[0]['id']}/delete",
        data={"csrf_token": _csrf(session)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert owner.get(f"/api/projects/{project_id}/webhooks").json() == []


def test_a_finished_jobs_cards_show_its_deliveries(
    owner: httpx.Client, db_url: str, small_video: Path
) -> None:
    session: httpx.Client = owner.session  # type: ignore[attr-defined]
    project_id = new_project(owner)
    hook = add_webhook(owner, project_id, "http://127.0.0.1:9/hooks")
    job_id = cancelled_job(owner, project_id, small_video)
    (delivery,) = deliveries(db_url, hook["id"])
    marker = f'data-delivery-id="{delivery["id"]}" data-status="pending"'
    assert marker in session.get(f"/projects/{project_id}/jobs/{job_id}").text
    assert marker in session.get(f"/projects/{project_id}/jobs/{job_id}/card").text
    assert marker in session.get(f"/projects/{project_id}").text
    page = session.get(f"/projects/{project_id}/webhooks").text
    assert f'data-delivery-id="{delivery["id"]}"' in page
    redelivered = session.post(
        f"/projects/{project_id}/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver",
        data={"csrf_token": _csrf(session)},
    )
    assert redelivered.status_code == 200 and "queued" in redelivered.text
