"""Small API helpers the job, pipeline and page tests share."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx


def bearer_client(client: httpx.Client) -> httpx.Client:
    """A client for the same user that authenticates with an API token (no CSRF needed)."""
    token = client.post("/api/tokens", json={"name": "tests"}).json()["token"]
    return httpx.Client(
        base_url=str(client.base_url), headers={"Authorization": f"Bearer {token}"}, timeout=120
    )


def create_project(client: httpx.Client, name: str = "Demo") -> dict[str, Any]:
    answer = client.post("/api/projects", json={"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def upload_video(
    api: httpx.Client, project_id: str, path: Path, title: str | None = None
) -> dict[str, Any]:
    with open(path, "rb") as handle:
        data = {"title": title} if title else {}
        answer = api.post(
            f"/api/projects/{project_id}/videos",
            files={"file": (path.name, handle, "video/mp4")},
            data=data,
        )
    assert answer.status_code == 201, answer.text
    return answer.json()


def process(api: httpx.Client, video_id: str, languages: list[str]) -> str:
    answer = api.post("/api/videos/process", json={"video_id": video_id, "languages": languages})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["job_id"])


def wait_for_job(
    api: httpx.Client,
    job_id: str,
    *,
    until: Any = None,
    timeout: float = 180,
    interval: float = 0.2,
) -> dict[str, Any]:
    """Poll until `until(job)` is true (default: the job is no longer active)."""
    done = until or (lambda job: job["status"] not in ("pending", "processing"))
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.get(f"/api/jobs/{job_id}").json()
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not reach the expected state in {timeout} s: {job}")
        time.sleep(interval)
