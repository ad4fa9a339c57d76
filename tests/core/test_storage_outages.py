"""A web app whose S3 server stops answering: the requests that need it get a 503 with a
sentence within seconds, and every other request goes on answering meanwhile."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from reeldocs.core.storage import WEB_TIMEOUTS
from tests.conftest import configured_server, sign_up
from tests.support.api import bearer_client, create_project, process, upload_video
from tests.support.media_factory import make_slide_video
from tests.support.s3 import BUCKET, S3Server, s3_server
from tests.support.tcp_proxy import FaultyProxy

# What a page may take while the storage hangs: the web timeouts, with room for a busy machine.
STORAGE_DEADLINE = WEB_TIMEOUTS.attempts * (WEB_TIMEOUTS.read_seconds + 2) + 10
# Far less than STORAGE_DEADLINE, far more than the milliseconds these requests take.
QUICK = 2.0


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture
def proxy(s3: S3Server) -> Iterator[FaultyProxy]:
    host, port = s3.endpoint.removeprefix("http://").split(":")
    proxy = FaultyProxy(host, int(port))
    yield proxy
    proxy.close()


def _add_screenshot(db_url: str, s3: S3Server, prefix: str, video_id: str) -> str:
    """A screenshot in storage and in the database, as a finished run leaves one."""
    run_id = uuid.uuid4()
    key = f"videos/{video_id}/runs/{run_id}/screenshots/scene-0001.webp"
    s3.client.put_object(Bucket=BUCKET, Key=f"{prefix}/{key}", Body=b"RIFF webp bytes")
    with psycopg.connect(db_url) as conn:
        conn.execute(
            """
            INSERT INTO screenshots (org_id, video_id, run_id, name, time_seconds, storage_path)
            SELECT org_id, id, %s, 'scene-0001.webp', 0, %s FROM videos WHERE id = %s
            """,
            (run_id, key, video_id),
        )
        conn.execute("UPDATE videos SET docs_run_id = %s WHERE id = %s", (run_id, video_id))
    return "scene-0001.webp"


def test_paused_storage_gets_503_in_seconds_while_other_requests_answer(
    s3: S3Server,
    proxy: FaultyProxy,
    settings: Settings,
    db_urls: DatabaseUrls,
    tmp_path: Path,
) -> None:
    prefix = s3.prefix()
    video_file = make_slide_video(tmp_path / "tour.mp4", ["One", "Two"], 1.0)
    with configured_server(
        settings, db_urls, storage_url=f"s3://{BUCKET}/{prefix}", s3_endpoint_url=proxy.url
    ) as server:
        session = sign_up(server.url, "outage")
        client = bearer_client(session)
        session.close()
        project = create_project(client)
        video = upload_video(client, project["id"], video_file)
        job_url = f"/api/jobs/{process(client, video['id'], ['en'])}"  # pending: no worker
        shot = _add_screenshot(db_urls.libpq, s3, prefix, video["id"])
        waiting_urls = [
            f"/api/videos/{video['id']}/screenshots/{shot}",
            f"/api/videos/{video['id']}/file",
            f"/api/videos/{video['id']}/export?video=true",
        ]
        assert all(client.get(url).status_code == 200 for url in waiting_urls)

        proxy.pause()
        with ThreadPoolExecutor(len(waiting_urls)) as pool:
            waiting: list[Future[tuple[httpx.Response, float]]] = [
                pool.submit(_timed_get, client, url) for url in waiting_urls
            ]
            assert proxy.held.wait(STORAGE_DEADLINE), "no request reached the storage"
            quick: list[float] = []
            while not all(future.done() for future in waiting):
                for url in ("/healthz", job_url):
                    started = time.monotonic()
                    answer = client.get(url, timeout=STORAGE_DEADLINE)
                    quick.append(time.monotonic() - started)
                    assert answer.status_code == 200, answer.text
                time.sleep(0.1)
            answers = [future.result() for future in waiting]

        # the requests that needed the storage were answered at least once while it hung
        assert len(quick) >= 2
        assert max(quick) < QUICK, f"other requests waited {max(quick):.2f} s"
        for (answer, seconds), url in zip(answers, waiting_urls, strict=True):
            assert answer.status_code == 503, (url, answer.text)
            assert answer.json()["error"] == "StorageUnavailable"
            assert "file storage is not answering" in answer.json()["detail"]
            assert seconds < STORAGE_DEADLINE, f"{url} answered after {seconds:.1f} s"

        proxy.release()
        assert client.get(f"/api/videos/{video['id']}/file").content == video_file.read_bytes()
        client.close()


def test_storage_refusing_connections_gets_503(
    s3: S3Server, proxy: FaultyProxy, settings: Settings, db_urls: DatabaseUrls, tmp_path: Path
) -> None:
    prefix = s3.prefix()
    video_file = make_slide_video(tmp_path / "tour.mp4", ["One"], 1.0)
    with configured_server(
        settings, db_urls, storage_url=f"s3://{BUCKET}/{prefix}", s3_endpoint_url=proxy.url
    ) as server:
        session = sign_up(server.url, "refused")
        client = bearer_client(session)
        session.close()
        project = create_project(client)
        video = upload_video(client, project["id"], video_file)
        proxy.down()
        answer = client.get(f"/api/videos/{video['id']}/file", headers={"Range": "bytes=0-9"})
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "StorageUnavailable"
        refused = client.post(
            f"/api/projects/{project['id']}/videos",
            files={"file": ("tour.mp4", video_file.read_bytes(), "video/mp4")},
        )
        assert refused.status_code == 503, refused.text
        assert "file storage is not answering" in refused.json()["detail"]
        # a deletion still goes through: the files are left behind, not the rows
        deleted = client.delete(f"/api/videos/{video['id']}")
        assert deleted.status_code == 204
        proxy.back()
        assert client.get(f"/api/videos/{video['id']}").status_code == 404
        client.close()


def _timed_get(api: httpx.Client, url: str) -> tuple[httpx.Response, float]:
    with httpx.Client(base_url=api.base_url, headers=api.headers, timeout=120) as client:
        started = time.monotonic()
        answer = client.get(url)
        return answer, time.monotonic() - started
