"""Deliveries by real workers to a receiver on 127.0.0.1: signed, retried, delivered once.

Nothing here waits for a retry's delay: a test that wants the next attempt now moves the
queued attempt's time to now, as the delay running out would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from standardwebhooks import Webhook
from support.api import create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video

from reeldocs.core.db import DatabaseUrls, create_engine
from reeldocs.webhooks import outbox
from reeldocs.webhooks.delivery import RETRY_DELAYS
from tests.conftest import WorkerProcesses
from tests.webhooks.conftest import add_webhook, cancelled_job, deliveries, new_project
from tests.webhooks.receiver import Received, receiving

ALLOW_PRIVATE = {"REELDOCS_WEBHOOK_ALLOW_PRIVATE": "true"}


def _wait_until(what: Callable[[], Any], timeout: float = 60, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or "the condition was not met in time")
        time.sleep(0.1)


def _one_delivery(db_url: str, webhook_id: str, **expected: Any) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        rows = deliveries(db_url, webhook_id)
        if len(rows) == 1 and all(rows[0][k] == v for k, v in expected.items()):
            return rows[0]
        return None

    row: dict[str, Any] = _wait_until(found, message=f"no delivery with {expected}")
    return row


def _due_now(db_url: str, queue_job_id: int) -> None:
    """What the retry's delay running out does: the queued attempt becomes due."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        moved = conn.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = %s AND status = 'todo'",
            (queue_job_id,),
        ).rowcount
    assert moved == 1


def _verified(request: Received, secret: str) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(request.body, request.headers)
    return payload


def test_a_completed_job_is_announced_signed(
    owner: httpx.Client, workers: WorkerProcesses, db_url: str, tmp_path: Path
) -> None:
    video = make_slide_video(tmp_path / "tour.mp4", ["Welcome", "Settings"], 2.0)
    project = create_project(owner, "Announced")
    with receiving(200) as receiver:
        hook = add_webhook(owner, project["id"], receiver.url)
        failed_only = add_webhook(owner, project["id"], receiver.url, events=["job.failed"])
        workers.start(**ALLOW_PRIVATE)
        uploaded = upload_video(owner, project["id"], video)
        job = wait_for_job(owner, process(owner, uploaded["id"], ["en"]))
        assert job["status"] == "completed"
        request = receiver.wait_for(1)[0]
        event = _verified(request, hook["secret"])
        assert event["type"] == "job.completed"
        assert event["data"]["id"] == job["id"]
        assert event["data"]["status"] == "completed"
        assert event["links"]["job"].endswith(f"/api/jobs/{job['id']}")
        delivered = _one_delivery(db_url, hook["id"], status="delivered")
        assert request.headers["webhook-id"] == delivered["message_id"]
        assert delivered["attempts"] == 1 and delivered["last_status_code"] == 200
        assert deliveries(db_url, failed_only["id"]) == []  # it takes job.failed only
        listed = owner.get(f"/api/webhooks/{hook['id']}/deliveries").json()
        assert [(d["event"], d["status"], d["attempts"]) for d in listed] == [
            ("job.completed", "delivered", 1)
        ]
        assert receiver.count() == 1


def test_an_endpoint_failing_once_gets_the_event_once_after_a_retry(
    owner: httpx.Client, workers: WorkerProcesses, db_url: str, small_video: Path
) -> None:
    project_id = new_project(owner)
    with receiving(500, 200) as receiver:
        hook = add_webhook(owner, project_id, receiver.url)
        job_id = cancelled_job(owner, project_id, small_video)
        workers.start(**ALLOW_PRIVATE)
        waiting = _one_delivery(db_url, hook["id"], attempts=1)
        assert waiting["status"] == "pending" and waiting["last_status_code"] == 500
        assert waiting["next_attempt_at"] - waiting["last_attempt_at"] == timedelta(
            seconds=RETRY_DELAYS[0]
        )
        assert waiting["engine_scheduled_at"] == waiting["next_attempt_at"]
        _due_now(db_url, waiting["queue_job_id"])
        delivered = _one_delivery(db_url, hook["id"], status="delivered")
        assert delivered["attempts"] == 2 and delivered["last_status_code"] == 200
        first, second = receiver.wait_for(2)
        for request in (first, second):
            event = _verified(request, hook["secret"])
            assert event["type"] == "job.cancelled" and event["data"]["id"] == job_id
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.body == second.body
        assert int(second.headers["webhook-timestamp"]) >= int(first.headers["webhook-timestamp"])
        # Another automatic attempt for a delivered event sends nothing.
        extra = asyncio.run(_queue_attempt(db_url, delivered["id"]))
        _wait_until(lambda: _engine_status(db_url, extra) == "succeeded")
        assert receiver.count() == 2


def _engine_status(db_url: str, queue_job_id: int) -> str | None:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT status::text FROM procrastinate_jobs WHERE id = %s", (queue_job_id,)
        ).fetchone()
    return None if row is None else str(row[0])


async def _queue_attempt(db_url: str, delivery_id: uuid.UUID) -> int:
    """An automatic attempt queued the way the engine would run a stray duplicate."""
    rest = db_url.split("://", 1)[1]
    engine = create_engine(DatabaseUrls(f"postgresql+psycopg://{rest}", db_url), pool_size=1)
    try:
        async with engine.begin() as conn:
            return await outbox.queue_attempt(conn, delivery_id)
    finally:
        await engine.dispose()


def test_two_attempts_at_once_deliver_once(
    owner: httpx.Client, workers: WorkerProcesses, db_url: str, small_video: Path
) -> None:
    """A second attempt while the first waits for its answer finds the delivery locked."""
    project_id = new_project(owner)
    with receiving(200) as receiver:
        receiver.hold.set()
        hook = add_webhook(owner, project_id, receiver.url)
        cancelled_job(owner, project_id, small_video)
        workers.start(**ALLOW_PRIVATE)
        receiver.wait_for(1)  # the first attempt waits for its answer
        pending = deliveries(db_url, hook["id"])[0]
        assert pending["status"] == "pending"
        rival = asyncio.run(_queue_attempt(db_url, pending["id"]))
        _wait_until(lambda: _engine_status(db_url, rival) == "succeeded")
        receiver.released.set()
        delivered = _one_delivery(db_url, hook["id"], status="delivered")
        assert delivered["attempts"] == 1
        assert receiver.count() == 1


def test_a_dead_endpoint_is_retried_for_a_day_then_redelivered(
    owner: httpx.Client, workers: WorkerProcesses, db_url: str, small_video: Path
) -> None:
    project_id = new_project(owner)
    assert sum(RETRY_DELAYS) > 24 * 3600
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    with receiving(503) as receiver:
        hook = add_webhook(owner, project_id, receiver.url)
        cancelled_job(owner, project_id, small_video)
        workers.start(**ALLOW_PRIVATE)
        delays = []
        for attempt in range(1, len(RETRY_DELAYS) + 1):
            row = _one_delivery(db_url, hook["id"], attempts=attempt)
            assert row["status"] == "pending" and row["last_status_code"] == 503
            delays.append((row["next_attempt_at"] - row["last_attempt_at"]).total_seconds())
            assert row["engine_scheduled_at"] == row["next_attempt_at"]
            assert row["engine_status"] == "todo"
            _due_now(db_url, row["queue_job_id"])
        assert delays == [float(delay) for delay in RETRY_DELAYS]
        failed = _one_delivery(db_url, hook["id"], attempts=len(RETRY_DELAYS) + 1)
        assert failed["status"] == "failed" and failed["next_attempt_at"] is None
        listed = owner.get(f"/api/webhooks/{hook['id']}/deliveries").json()
        assert listed[0]["status"] == "failed" and listed[0]["last_status_code"] == 503
        received = receiver.wait_for(len(RETRY_DELAYS) + 1)
        assert len({request.headers["webhook-id"] for request in received}) == 1

        receiver.answer(204)
        answer = owner.post(f"/api/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver")
        assert answer.status_code == 202, answer.text
        delivered = _one_delivery(db_url, hook["id"], status="delivered")
        assert delivered["attempts"] == len(RETRY_DELAYS) + 2
        assert delivered["last_status_code"] == 204
        last = receiver.wait_for(len(RETRY_DELAYS) + 2)[-1]
        assert last.headers["webhook-id"] == failed["message_id"]
        _verified(last, hook["secret"])


def test_a_private_address_is_refused_at_each_attempt_without_the_setting(
    owner: httpx.Client, workers: WorkerProcesses, db_url: str, small_video: Path
) -> None:
    """Allowed when it was created (the web server has the setting), refused when sent
    (the worker has not): the check is made again on the address resolved for the attempt."""
    project_id = new_project(owner)
    with receiving(200) as receiver:
        hook = add_webhook(owner, project_id, receiver.url.replace("127.0.0.1", "localhost"))
        cancelled_job(owner, project_id, small_video)
        workers.start(REELDOCS_WEBHOOK_ALLOW_PRIVATE="false")
        refused = _one_delivery(db_url, hook["id"], attempts=1)
        assert refused["status"] == "pending"
        assert refused["last_status_code"] is None
        assert "loopback" in refused["last_error"]
        assert receiver.count() == 0


@pytest.mark.parametrize("event", ["job.failed"])
def test_events_an_endpoint_did_not_ask_for_are_not_sent(
    owner: httpx.Client, db_url: str, small_video: Path, event: str
) -> None:
    project_id = new_project(owner)
    hook = add_webhook(owner, project_id, "http://127.0.0.1:9/hooks", events=[event])
    cancelled_job(owner, project_id, small_video)
    assert deliveries(db_url, hook["id"]) == []
