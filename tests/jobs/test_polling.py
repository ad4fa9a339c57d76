"""Polling a job: 304 from the job's version alone, 200 once anything shown has changed.

What the server runs is watched through the driver: while a test looks, every cursor
of the app's pooled connections records its statements.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from support.api import create_project, upload_video
from support.media_factory import make_slide_video

from tests.auth.accounts import user_id_of
from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def small_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "small.mp4"
    return make_slide_video(path, ["One", "Two"], 1.5)


@pytest.fixture
def job(api: httpx.Client, small_video: Path) -> dict[str, Any]:
    """A pending job (the test server runs no worker, so it stays as it is)."""
    project = create_project(api)
    video = upload_video(api, project["id"], small_video, title="Tour")
    answer = api.post("/api/videos/process", json={"video_id": video["id"], "languages": ["en"]})
    assert answer.status_code == 202, answer.text
    return {"id": answer.json()["job_id"], "project_id": project["id"], "video_id": video["id"]}


class Statements:
    """Every statement the app's pooled connections run while installed."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def cursor_class(self) -> type[psycopg.AsyncCursor[Any]]:
        record = self._record

        class RecordingCursor(psycopg.AsyncCursor[Any]):
            async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                record(query)
                return await super().execute(query, params, **kwargs)

        return RecordingCursor

    def _record(self, query: Any) -> None:
        with self._lock:
            self.seen.append(" ".join(str(query).split()))

    def clear(self) -> None:
        with self._lock:
            self.seen.clear()


@pytest.fixture
def statements(live_server: LiveServer) -> Iterator[Statements]:
    recorder = Statements()
    recording = recorder.cursor_class()
    pool = live_server.app.state.engine.sync_engine.pool

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        proxy.driver_connection.cursor_factory = recording

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.driver_connection.cursor_factory = psycopg.AsyncCursor

    sa.event.listen(pool, "checkout", on_checkout)
    sa.event.listen(pool, "checkin", on_checkin)
    try:
        yield recorder
    finally:
        sa.event.remove(pool, "checkout", on_checkout)
        sa.event.remove(pool, "checkin", on_checkin)


def _set(db_url: str, sql: str, value: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(sql, (value,))


def test_the_job_is_304_while_unchanged_and_200_once_it_or_its_title_changes(
    api: httpx.Client, job: dict[str, Any], db_url: str
) -> None:
    first = api.get(f"/api/jobs/{job['id']}")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"

    same = api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.headers["etag"] == etag
    assert same.content == b""
    listed = api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": f'"x", {etag}'})
    assert listed.status_code == 304

    _set(db_url, "UPDATE processing_jobs SET step_message = 'Halfway' WHERE id = %s", job["id"])
    changed = api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["step_message"] == "Halfway"
    assert changed.headers["etag"] != etag

    _set(db_url, "UPDATE videos SET title = 'Renamed tour' WHERE id = %s", job["video_id"])
    renamed = api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": changed.headers["etag"]})
    assert renamed.status_code == 200
    assert renamed.json()["video_title"] == "Renamed tour"


def test_a_304_reads_the_jobs_version_and_not_the_job(
    api: httpx.Client, job: dict[str, Any], db_url: str, statements: Statements
) -> None:
    etag = api.get(f"/api/jobs/{job['id']}").headers["etag"]
    statements.clear()

    assert api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag}).status_code == 304

    [lookup, version] = statements.seen
    assert "FROM api_tokens" in lookup and "set_config('role', 'reeldocs_app', true)" in lookup
    assert "processing_jobs" in version
    assert "step_message" not in version and "language_results" not in version

    # A stale ETag reads the whole job: the recorder sees that too.
    _set(db_url, "UPDATE processing_jobs SET step_message = 'Later' WHERE id = %s", job["id"])
    statements.clear()
    assert api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag}).status_code == 200
    assert any("step_message" in statement for statement in statements.seen)


def test_another_teams_etag_is_404_not_304(
    job: dict[str, Any], api: httpx.Client, make_user: Any
) -> None:
    etag = api.get(f"/api/jobs/{job['id']}").headers["etag"]
    stranger = make_user("stranger")

    answer = stranger.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag})

    assert answer.status_code == 404
    assert answer.json()["error"] == "NotFound"


def test_the_job_card_is_304_while_unchanged(
    user: httpx.Client, job: dict[str, Any], db_url: str, statements: Statements
) -> None:
    card_url = f"/projects/{job['project_id']}/jobs/{job['id']}/card"
    htmx = {"HX-Request": "true"}
    first = user.get(card_url, headers=htmx)
    assert first.status_code == 200
    assert 'id="job-card"' in first.text
    etag = first.headers["etag"]
    # The browser keeps it only to ask again with If-None-Match: that is what makes a 304.
    assert first.headers["cache-control"] == "private, no-cache"

    statements.clear()
    same = user.get(card_url, headers=htmx | {"If-None-Match": etag})
    assert same.status_code == 304
    assert same.headers["etag"] == etag
    [lookup, version] = statements.seen
    assert "FROM user_sessions" in lookup
    assert "step_message" not in version

    _set(db_url, "UPDATE processing_jobs SET step_message = 'Recognising' WHERE id = %s", job["id"])
    changed = user.get(card_url, headers=htmx | {"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Recognising" in changed.text

    elsewhere = create_project(user, "Elsewhere")["id"]
    wrong_project = user.get(
        f"/projects/{elsewhere}/jobs/{job['id']}/card", headers=htmx | {"If-None-Match": etag}
    )
    assert wrong_project.status_code == 404


def test_the_job_cards_etag_follows_the_callers_role(
    user: httpx.Client, job: dict[str, Any], db_url: str
) -> None:
    card_url = f"/projects/{job['project_id']}/jobs/{job['id']}/card"
    htmx = {"HX-Request": "true"}
    etag = user.get(card_url, headers=htmx).headers["etag"]
    assert "Cancel" in user.get(card_url, headers=htmx).text

    _set(
        db_url,
        "UPDATE organization_members SET role = 'viewer' WHERE user_id = %s",
        user_id_of(user),
    )
    as_viewer = user.get(card_url, headers=htmx | {"If-None-Match": etag})

    assert as_viewer.status_code == 200
    assert "Cancel" not in as_viewer.text


def _last_used(db_url: str, token_id: str) -> Any:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT last_used_at FROM api_tokens WHERE id = %s", (token_id,)
        ).fetchone()
    assert row is not None
    return row[0]


def test_a_tokens_last_use_is_written_at_most_once_a_minute(
    user: httpx.Client, base_url: str, db_url: str, statements: Statements
) -> None:
    created = user.post("/api/tokens", json={"name": "poller"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}

    assert httpx.get(f"{base_url}/api/orgs", headers=headers).status_code == 200
    first_use = _last_used(db_url, created["id"])
    assert first_use is not None

    statements.clear()
    assert httpx.get(f"{base_url}/api/orgs", headers=headers).status_code == 200
    assert _last_used(db_url, created["id"]) == first_use
    assert not [s for s in statements.seen if s.upper().startswith("UPDATE")]

    _set(
        db_url,
        "UPDATE api_tokens SET last_used_at = now() - interval '61 seconds' WHERE id = %s",
        created["id"],
    )
    backdated = _last_used(db_url, created["id"])
    assert httpx.get(f"{base_url}/api/orgs", headers=headers).status_code == 200
    assert _last_used(db_url, created["id"]) > backdated


def test_polls_right_after_a_database_restart_are_answered(
    api: httpx.Client, job: dict[str, Any]
) -> None:
    if os.environ.get("REELDOCS_DATABASE_URL"):
        pytest.skip("restarts the embedded PostgreSQL; an external one is not ours to restart")
    from reeldocs.core import embedded_db

    # Several requests at once first, so the pool holds several connections to lose.
    with ThreadPoolExecutor(max_workers=8) as pool:
        warm = list(pool.map(lambda _: api.get(f"/api/jobs/{job['id']}"), range(16)))
    assert {answer.status_code for answer in warm} == {200}
    etag = warm[0].headers["etag"]

    embedded_db.restart()

    answers = [
        api.get(f"/api/jobs/{job['id']}", headers={"If-None-Match": etag}) for _ in range(24)
    ]
    assert [answer.status_code for answer in answers] == [304] * 24
    assert api.get("/api/orgs").status_code == 200
