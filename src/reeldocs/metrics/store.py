"""Counters and step timings kept in the database, in the transactions that change them.

A process's own memory would count only what that process saw, and forget it when it
restarts; these rows are the same for every web process and worker that reads them.
Histograms are kept as one counter per bucket (not cumulative), plus their count and sum.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

JOBS_FINISHED = "reeldocs_jobs_finished_total"
WEBHOOK_DELIVERIES = "reeldocs_webhook_deliveries_total"
STEP_SECONDS = "reeldocs_job_step_seconds"

FINISHED_STATUSES = ("completed", "failed", "cancelled")
# What one delivery attempt came to: answered 2xx; answered otherwise, late or not at all;
# refused before any request because the host resolved to an address webhooks may not reach.
DELIVERY_RESULTS = ("delivered", "failed", "refused")

# Upper bounds of the step-timing buckets, in seconds (the last bucket is +Inf): from a
# step over in a second to a long video's speech recognition.
STEP_BUCKETS: tuple[float, ...] = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

_ADD = sa.text(
    """
    INSERT INTO metric_counters (metric, labels, value)
    VALUES (:metric, CAST(:labels AS jsonb), :value)
    ON CONFLICT (metric, labels) DO UPDATE SET value = metric_counters.value + EXCLUDED.value
    """
)


def bucket_label(upper: float) -> str:
    from prometheus_client.utils import floatToGoString

    return floatToGoString(upper)


async def add(
    conn: AsyncConnection, metric: str, labels: Mapping[str, str], value: float = 1.0
) -> None:
    await conn.execute(
        _ADD, {"metric": metric, "labels": json.dumps(dict(labels), sort_keys=True), "value": value}
    )


async def observe_step(conn: AsyncConnection, step: str, seconds: float) -> None:
    seconds = max(seconds, 0.0)
    upper = next((bound for bound in STEP_BUCKETS if seconds <= bound), float("inf"))
    rows = [
        (f"{STEP_SECONDS}_bucket", {"step": step, "le": bucket_label(upper)}, 1.0),
        (f"{STEP_SECONDS}_count", {"step": step}, 1.0),
        (f"{STEP_SECONDS}_sum", {"step": step}, seconds),
    ]
    # One statement, rows in a fixed order: two workers adding to the same step's rows
    # lock them in the same order and never deadlock.
    await conn.execute(
        sa.text(
            """
            INSERT INTO metric_counters (metric, labels, value)
            SELECT metric, CAST(labels AS jsonb), value
            FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                AS r(metric text, labels text, value double precision)
            ORDER BY metric, labels
            ON CONFLICT (metric, labels) DO UPDATE
                SET value = metric_counters.value + EXCLUDED.value
            """
        ),
        {
            "rows": json.dumps(
                [
                    {"metric": m, "labels": json.dumps(labels, sort_keys=True), "value": v}
                    for m, labels, v in rows
                ]
            )
        },
    )
