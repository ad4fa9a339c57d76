"""Deliveries owed for a finished job, written in the transaction that finished it.

Each endpoint of the job's project that takes the event gets one delivery row and one
queued attempt; from then on the webhooks queue's workers carry them out (see
webhooks.delivery), never the worker that ran the video.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from functools import lru_cache

import procrastinate
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

DELIVER_TASK = "reeldocs.deliver_webhook"
WEBHOOK_QUEUE = "webhooks"


@lru_cache(maxsize=1)
def _deferrer() -> procrastinate.App:
    # Never opened: it only queues attempts on the caller's own connection, inside the
    # caller's transaction, so no delivery row exists without its queued attempt.
    return procrastinate.App(connector=procrastinate.PsycopgConnector())


def new_message_id() -> str:
    """The webhook-id of one event to one endpoint (receivers de-duplicate on it)."""
    return "msg_" + secrets.token_urlsafe(18)


async def queue_attempt(
    conn: AsyncConnection,
    delivery_id: uuid.UUID,
    *,
    at: datetime | None = None,
    manual: bool = False,
) -> int:
    """Queue an attempt (at `at`, else now) on `conn`, inside its transaction."""
    raw = await conn.get_raw_connection()
    queue_job_id: int = await (
        _deferrer()
        .configure_task(
            DELIVER_TASK, queue=WEBHOOK_QUEUE, schedule_at=at, connection=raw.driver_connection
        )
        .defer_async(delivery_id=str(delivery_id), manual=manual)
    )
    return queue_job_id


async def owe_deliveries(
    conn: AsyncConnection, *, event_id: int, project_id: uuid.UUID, job_id: uuid.UUID, event: str
) -> int:
    """One delivery per endpoint of the project taking `event`, each with its first attempt
    queued. Runs as the service role (the caller finishes a job). Returns how many."""
    endpoints = list(
        (
            await conn.execute(
                sa.text(
                    "SELECT id, org_id FROM webhook_endpoints "
                    "WHERE project_id = :project AND :event = ANY(events) ORDER BY created_at"
                ),
                {"project": project_id, "event": event},
            )
        ).all()
    )
    for endpoint_id, org_id in endpoints:
        delivery_id = uuid.uuid4()
        await conn.execute(
            sa.text(
                "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, job_id, "
                "event, message_id, next_attempt_at) "
                "VALUES (:id, :org, :endpoint, :event_id, :job, :event, :message, now())"
            ),
            {
                "id": delivery_id,
                "org": org_id,
                "endpoint": endpoint_id,
                "event_id": event_id,
                "job": job_id,
                "event": event,
                "message": new_message_id(),
            },
        )
        queue_job_id = await queue_attempt(conn, delivery_id)
        await conn.execute(
            sa.text("UPDATE webhook_deliveries SET queue_job_id = :q WHERE id = :id"),
            {"q": queue_job_id, "id": delivery_id},
        )
    return len(endpoints)
