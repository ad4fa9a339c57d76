"""The installation's metrics, read from the database at each scrape.

Gauges are counted from the tables as they are now; counters and step timings are the
rows jobs and deliveries add to as they happen (see metrics.store). Every web process
reads the same rows, so whichever one answers a scrape says the same, workers on other
machines included. Labels name statuses, steps, queues and results: never a team,
project or video.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncConnection

from reeldocs.core.db import raw_driver_connection
from reeldocs.jobs.queue import QUEUE
from reeldocs.jobs.schemas import JOB_STATUSES
from reeldocs.metrics import store
from reeldocs.webhooks.outbox import WEBHOOK_QUEUE

QUEUES = (QUEUE, WEBHOOK_QUEUE)


@dataclass
class Snapshot:
    """What one scrape reports, read in one transaction."""

    jobs: dict[str, int] = field(default_factory=dict)  # status -> jobs
    queue_depth: dict[str, int] = field(default_factory=dict)  # queue -> engine jobs due
    counters: dict[tuple[str, str], float] = field(default_factory=dict)  # (metric, labels)


async def read_snapshot(conn: AsyncConnection) -> Snapshot:
    """Read everything a scrape reports (as the service role: these are no team's rows)."""
    driver = await raw_driver_connection(conn)
    snapshot = Snapshot()
    cursor = await driver.execute("SELECT status, count(*) FROM processing_jobs GROUP BY status")
    snapshot.jobs = {status: int(n) for status, n in await cursor.fetchall()}
    # Waiting and due now: a webhook retry scheduled for tomorrow is not a queue backlog.
    cursor = await driver.execute(
        """
        SELECT queue_name, count(*) FROM procrastinate_jobs
        WHERE status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())
        GROUP BY queue_name
        """
    )
    snapshot.queue_depth = {queue: int(n) for queue, n in await cursor.fetchall()}
    cursor = await driver.execute("SELECT metric, labels::text, value FROM metric_counters")
    snapshot.counters = {
        (metric, labels): float(value) for metric, labels, value in await cursor.fetchall()
    }
    return snapshot


class DatabaseCollector(Collector):
    """A prometheus_client collector over one scrape's reading of the database."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def _counter(self, metric: str, label: str) -> dict[str, float]:
        values: dict[str, float] = {}
        for (name, labels), value in self.snapshot.counters.items():
            if name == metric:
                key = json.loads(labels).get(label, "")
                values[key] = values.get(key, 0.0) + value
        return values

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "reeldocs_jobs", "Processing jobs by status, now.", labels=["status"]
        )
        for status in JOB_STATUSES:
            jobs.add_metric([status], self.snapshot.jobs.get(status, 0))
        yield jobs

        depth = GaugeMetricFamily(
            "reeldocs_queue_depth",
            "Engine jobs waiting for a worker and due now, by queue.",
            labels=["queue"],
        )
        for queue in sorted({*QUEUES, *self.snapshot.queue_depth}):
            depth.add_metric([queue], self.snapshot.queue_depth.get(queue, 0))
        yield depth

        finished = CounterMetricFamily(
            store.JOBS_FINISHED,
            "Jobs that ended, by how they ended, since the database was created.",
            labels=["status"],
        )
        counted = self._counter(store.JOBS_FINISHED, "status")
        for status in sorted({*store.FINISHED_STATUSES, *counted}):
            finished.add_metric([status], counted.get(status, 0.0))
        yield finished

        deliveries = CounterMetricFamily(
            store.WEBHOOK_DELIVERIES,
            "Webhook delivery attempts, by result: delivered (answered 2xx), failed "
            "(answered otherwise, late or not at all), refused (a private address).",
            labels=["result"],
        )
        counted = self._counter(store.WEBHOOK_DELIVERIES, "result")
        for result in sorted({*store.DELIVERY_RESULTS, *counted}):
            deliveries.add_metric([result], counted.get(result, 0.0))
        yield deliveries

        yield self._step_histogram()

    def _step_histogram(self) -> HistogramMetricFamily:
        histogram = HistogramMetricFamily(
            store.STEP_SECONDS,
            "Time jobs spent in each step, in seconds.",
            labels=["step"],
        )
        per_bucket: dict[str, dict[str, float]] = defaultdict(dict)
        for (name, labels), value in self.snapshot.counters.items():
            if name == f"{store.STEP_SECONDS}_bucket":
                parsed = json.loads(labels)
                per_bucket[parsed["step"]][parsed["le"]] = value
        totals = self._counter(f"{store.STEP_SECONDS}_sum", "step")
        counts = self._counter(f"{store.STEP_SECONDS}_count", "step")
        for step in sorted(per_bucket.keys() | counts.keys()):
            running = 0.0
            buckets: list[tuple[str, float]] = []
            for upper in (*store.STEP_BUCKETS, math.inf):
                label = store.bucket_label(upper)
                running += per_bucket[step].get(label, 0.0)
                buckets.append((label, running))
            histogram.add_metric([step], buckets, totals.get(step, 0.0))
        return histogram


def registry_for(snapshot: Snapshot) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(snapshot))
    return registry
