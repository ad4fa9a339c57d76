"""The upload cap, enforced on the bytes received, against a server whose cap is tiny."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from tests.conftest import PASSWORD, LiveServer, unique_email
from tests.videos.helpers import (
    csrf_headers,
    is_sentence,
    new_project,
    scratch_files,
    stored_paths,
    upload,
    video_rows,
)

MiB = 1024 * 1024
REFUSAL_LOG = re.compile(r"upload refused after reading (\d+) bytes")


@pytest.fixture(scope="module")
def cap(sample_video: Path) -> int:
    """The cap is exactly the sample video's size: it fits, one more byte does not."""
    return sample_video.stat().st_size


@pytest.fixture(scope="module")
def small_cap_server(settings: Settings, db_urls: DatabaseUrls, cap: int) -> Iterator[LiveServer]:
    server = LiveServer(
        dataclasses.replace(settings, max_upload_bytes=cap), db_urls, run_worker=False
    ).start()
    yield server
    server.stop()


@pytest.fixture
def uploader(small_cap_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_cap_server.url, timeout=60) as client:
        answer = client.post(
            "/api/auth/signup", json={"email": unique_email("capped"), "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        yield client


def test_a_file_exactly_at_the_cap_is_accepted(uploader: httpx.Client, sample_video: Path) -> None:
    project_id = new_project(uploader)
    answer = upload(uploader, project_id, sample_video.read_bytes(), "tour.mp4")
    assert answer.status_code == 201, answer.text


def test_one_byte_over_the_cap_is_refused_from_content_length(
    uploader: httpx.Client,
    sample_video: Path,
    settings: Settings,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    project_id = new_project(uploader)
    before = stored_paths(settings)
    with caplog.at_level(logging.INFO, logger="reeldocs.videos.upload"):
        answer = upload(uploader, project_id, sample_video.read_bytes() + b"\x00", "tour.mp4")
    assert answer.status_code == 413
    assert answer.json()["error"] == "PayloadTooLarge"
    assert is_sentence(answer.json()["detail"])
    assert "upload limit" in answer.json()["detail"]
    assert video_rows(db_url, project_id) == []
    assert stored_paths(settings) == before
    assert scratch_files(settings) == []


def test_a_streamed_body_over_the_cap_is_cut_off_early(
    uploader: httpx.Client,
    cap: int,
    settings: Settings,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No Content-Length (chunked): the server must count, and stop reading near the cap."""
    project_id = new_project(uploader)
    before = stored_paths(settings)
    boundary = "reeldocs-limit-test"
    total_file_bytes = cap + 64 * MiB
    yielded = 0

    def body() -> Iterator[bytes]:
        nonlocal yielded
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="huge.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        pieces = [head]
        chunk = b"\x00" * (64 * 1024)
        pieces += [chunk] * (total_file_bytes // len(chunk) + 1)
        pieces.append(f"\r\n--{boundary}--\r\n".encode())
        for piece in pieces:
            yielded += len(piece)
            yield piece

    headers = {
        **csrf_headers(uploader),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    with caplog.at_level(logging.INFO, logger="reeldocs.videos.upload"):
        answer = uploader.post(
            f"/api/projects/{project_id}/videos", content=body(), headers=headers
        )
    assert answer.status_code == 413, answer.text
    assert is_sentence(answer.json()["detail"])
    assert answer.headers["connection"] == "close"

    # What the server itself read, from its log line; then what left the client, which also
    # includes what sat in socket buffers when the connection closed.
    [read] = [int(m.group(1)) for r in caplog.records if (m := REFUSAL_LOG.search(r.getMessage()))]
    assert cap < read <= cap + MiB
    assert yielded < cap + 16 * MiB < total_file_bytes
    assert video_rows(db_url, project_id) == []
    assert stored_paths(settings) == before
    assert scratch_files(settings) == []

    # The server is still fine for the next upload.
    assert uploader.get(f"/api/projects/{project_id}/videos").json() == []
