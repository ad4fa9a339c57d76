"""The webhook deliveries the pages show with a finished job, read as the user (viewers,
whom the policies show no webhook, get none)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reeldocs.core.db import DriverConnection


@dataclass(frozen=True)
class JobDelivery:
    id: uuid.UUID
    webhook_id: uuid.UUID
    url: str
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None


async def job_deliveries(
    conn: DriverConnection, job_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[JobDelivery]]:
    ids = list(job_ids)
    if not ids:
        return {}
    cursor = await conn.execute(
        """
        SELECT d.job_id, d.id, d.endpoint_id, e.url, d.event, d.status, d.attempts,
               d.last_status_code, d.next_attempt_at
        FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.job_id = ANY(%s)
        ORDER BY d.created_at, e.url
        """,
        (ids,),
    )
    found: dict[uuid.UUID, list[JobDelivery]] = {}
    for job_id, *rest in await cursor.fetchall():
        found.setdefault(job_id, []).append(JobDelivery(*rest))
    return found
