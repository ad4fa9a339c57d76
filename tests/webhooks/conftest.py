"""What the webhook tests share: a server that lets webhooks reach 127.0.0.1, a project
with an endpoint, and jobs that end without being processed (cancelled while waiting)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.conftest import LiveServer, configured_server, sign_up


@pytest.fixture(scope="module")
def hooks_server(settings: Settings, db_urls: DatabaseUrls) -> Iterator[LiveServer]:
    """The app allowing webhooks to private addresses, as the receiver is on 127.0.0.1."""
    with configured_server(settings, db_urls, webhook_allow_private=True) as server:
        yield server


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_slide_video(tmp_path_factory.mktemp("media") / "small.mp4", ["One", "Two"], 1.0)


@pytest.fixture
def owner(hooks_server: LiveServer) -> Iterator[httpx.Client]:
    session = sign_up(hooks_server.url, "hooks")
    api = bearer_client(session)
    api.session = session  # type: ignore[attr-defined]
    yield api
    api.close()
    session.close()


def add_webhook(api: httpx.Client, project_id: str, url: str, **body: Any) -> dict[str, Any]:
    answer = api.post(f"/api/projects/{project_id}/webhooks", json={"url": url, **body})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def cancelled_job(api: httpx.Client, project_id: str, video: Path) -> str:
    """A job that ends at once: cancelled while it waits (run it with no worker started)."""
    uploaded = upload_video(api, project_id, video)
    job_id = process(api, uploaded["id"], ["en"])
    answer = api.post(f"/api/jobs/{job_id}/cancel")
    assert answer.status_code == 202, answer.text
    return job_id


def new_project(api: httpx.Client) -> str:
    return str(create_project(api, "Hooks")["id"])


def deliveries(db_url: str, webhook_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        return conn.execute(
            """
            SELECT d.*, q.status::text AS engine_status, q.scheduled_at AS engine_scheduled_at
            FROM webhook_deliveries d LEFT JOIN procrastinate_jobs q ON q.id = d.queue_job_id
            WHERE d.endpoint_id = %s ORDER BY d.created_at
            """,
            (webhook_id,),
        ).fetchall()
