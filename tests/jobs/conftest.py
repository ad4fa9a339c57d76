"""What the job tests share: an API client with a token, and a few SQL probes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest
from support.api import bearer_client


@pytest.fixture
def api(user: httpx.Client) -> Iterator[httpx.Client]:
    client = bearer_client(user)
    yield client
    client.close()


def job_rows(db_url: str, video_id: str) -> int:
    """How many processing_jobs rows the video has, whatever their status."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM processing_jobs WHERE video_id = %s", (video_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])
