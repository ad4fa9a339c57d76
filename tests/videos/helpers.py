"""Small steps the video tests share: projects, uploads, and looking at what was left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg

from reeldocs.core.settings import Settings


def csrf_headers(client: httpx.Client) -> dict[str, str]:
    answer = client.get("/api/auth/session")
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def new_project(client: httpx.Client, name: str = "Product tours") -> str:
    answer = client.post("/api/projects", json={"name": name})
    assert answer.status_code == 201, answer.text
    project_id: str = answer.json()["id"]
    return project_id


def upload(
    client: httpx.Client,
    project_id: str,
    content: bytes,
    file_name: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST the file as a browser would: multipart, with the session's CSRF token."""
    return client.post(
        f"/api/projects/{project_id}/videos",
        files={"file": (file_name, content, "video/mp4")},
        data={"title": title} if title is not None else None,
        headers=csrf_headers(client) if headers is None else headers,
    )


def storage_root(settings: Settings) -> Path:
    return Path(settings.storage_url)


def stored_paths(settings: Settings) -> set[str]:
    """Every file and folder under the storage directory, relative to it (but the top folders)."""
    root = storage_root(settings)
    while True:
        try:
            return {str(path.relative_to(root)) for path in root.rglob("*/*")}
        except FileNotFoundError:
            continue  # a folder went away while it was being listed: look again


def scratch_files(settings: Settings) -> list[Path]:
    scratch = settings.data_dir / "uploads"
    return list(scratch.iterdir()) if scratch.exists() else []


def video_rows(db_url: str, project_id: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT id, status, mime, size_bytes, codecs, storage_path FROM videos "
            "WHERE project_id = %s",
            (project_id,),
        ).fetchall()


def is_sentence(detail: object) -> bool:
    return isinstance(detail, str) and len(detail.split()) >= 5 and detail.rstrip()[-1] in ".!?"


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """For what happens just after a response (files removed by a background task)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
