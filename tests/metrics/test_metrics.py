"""/metrics: Prometheus' text format, the same numbers as the database, whoever answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.api import bearer_client, create_project, process, upload_video
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls
from reeldocs.core.settings import Settings
from reeldocs.metrics.store import STEP_BUCKETS, bucket_label
from tests.conftest import configured_server


def _scrape(url: str, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{url}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _database(db_url: str) -> dict[str, object]:
    with psycopg.connect(db_url) as conn:
        jobs = dict(conn.execute("SELECT status, count(*) FROM processing_jobs GROUP BY status"))
        depth = dict(
            conn.execute(
                "SELECT queue_name, count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                "AND (scheduled_at IS NULL OR scheduled_at <= now()) GROUP BY queue_name"
            )
        )
        counters = {
            (metric, json.dumps(labels, sort_keys=True)): value
            for metric, labels, value in conn.execute(
                "SELECT metric, labels, value FROM metric_counters"
            )
        }
    return {"jobs": jobs, "depth": depth, "counters": counters}


@pytest.fixture(scope="module")
def two_servers(settings: Settings, db_urls: DatabaseUrls) -> Iterator[tuple[str, str]]:
    with configured_server(settings, db_urls) as one, configured_server(settings, db_urls) as two:
        yield one.url, two.url


@pytest.fixture
def api(user: httpx.Client) -> Iterator[httpx.Client]:
    client = bearer_client(user)
    yield client
    client.close()


def test_metrics_match_the_database_whichever_server_answers(
    two_servers: tuple[str, str], api: httpx.Client, user: httpx.Client, db_url: str, tmp_path: Path
) -> None:
    project = create_project(api, "Counted")
    video = make_slide_video(tmp_path / "one.mp4", ["One"], 1.0)
    uploaded = upload_video(api, project["id"], video)
    job_id = process(api, uploaded["id"], ["en"])
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    with psycopg.connect(db_url, autocommit=True) as conn:
        # A finished step, as a worker records it, so the histogram has something to show.
        conn.execute(
            "INSERT INTO metric_counters (metric, labels, value) VALUES "
            "('reeldocs_job_step_seconds_bucket', %s, 2), "
            "('reeldocs_job_step_seconds_count', %s, 2), "
            "('reeldocs_job_step_seconds_sum', %s, 7.5) "
            "ON CONFLICT (metric, labels) DO UPDATE "
            "SET value = metric_counters.value + EXCLUDED.value",
            (
                json.dumps({"step": "transcribing", "le": bucket_label(5)}),
                json.dumps({"step": "transcribing"}),
                json.dumps({"step": "transcribing"}),
            ),
        )
    first, second = (_scrape(url) for url in two_servers)
    assert first == second
    facts = _database(db_url)
    jobs: dict[str, int] = facts["jobs"]  # type: ignore[assignment]
    for status in ("pending", "processing", "completed", "failed", "retried", "cancelled"):
        assert first[("reeldocs_jobs", (("status", status),))] == jobs.get(status, 0)
    assert jobs["cancelled"] >= 1
    depth: dict[str, int] = facts["depth"]  # type: ignore[assignment]
    for queue in ("videos", "webhooks"):
        assert first[("reeldocs_queue_depth", (("queue", queue),))] == depth.get(queue, 0)
    counters: dict[tuple[str, str], float] = facts["counters"]  # type: ignore[assignment]
    for status in ("completed", "failed", "cancelled"):
        stored = counters.get(("reeldocs_jobs_finished_total", json.dumps({"status": status})), 0)
        assert first[("reeldocs_jobs_finished_total", (("status", status),))] == stored
    assert first[("reeldocs_jobs_finished_total", (("status", "cancelled"),))] >= 1
    for result in ("delivered", "failed", "refused"):
        stored = counters.get(
            ("reeldocs_webhook_deliveries_total", json.dumps({"result": result})), 0
        )
        assert first[("reeldocs_webhook_deliveries_total", (("result", result),))] == stored
    step = (("step", "transcribing"),)
    count = counters[("reeldocs_job_step_seconds_count", json.dumps(dict(step)))]
    assert first[("reeldocs_job_step_seconds_count", step)] == count
    assert (
        first[("reeldocs_job_step_seconds_sum", step)]
        == counters[("reeldocs_job_step_seconds_sum", json.dumps(dict(step)))]
    )
    assert first[("reeldocs_job_step_seconds_bucket", (("le", "+Inf"), *step))] == count
    cumulative = [
        first[("reeldocs_job_step_seconds_bucket", (("le", bucket_label(b)), *step))]
        for b in STEP_BUCKETS
    ]
    assert cumulative == sorted(cumulative) and cumulative[STEP_BUCKETS.index(5)] >= 2
    # No team, project or video in any label.
    names = {str(project["id"]), project["name"], str(uploaded["id"]), str(user.org_id)}  # type: ignore[attr-defined]
    labels = {value for _, pairs in first for _, value in pairs}
    assert not labels & names


def test_counters_never_go_down_when_things_are_deleted(
    base_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    project = create_project(api, "Gone")
    video = make_slide_video(tmp_path / "gone.mp4", ["One"], 1.0)
    job_id = process(api, upload_video(api, project["id"], video)["id"], ["en"])
    assert api.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    key = ("reeldocs_jobs_finished_total", (("status", "cancelled"),))
    before = _scrape(base_url)[key]
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert _scrape(base_url)[key] == before


def test_the_metrics_token_is_required_when_set(settings: Settings, db_urls: DatabaseUrls) -> None:
    token = uuid.uuid4().hex
    with configured_server(settings, db_urls, metrics_token=token) as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 401
        wrong = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert _scrape(server.url, Authorization=f"Bearer {token}")
