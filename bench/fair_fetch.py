"""What fair sharing costs a worker: one fetch of the next video job with a long queue.

Ten teams queue a hundred jobs each, through the jobs service as requests do. Then the
fair fetch (reeldocs_fetch_fair_job, with and without a per-team cap) and the engine's
own fetch (procrastinate_fetch_job_v2) take the next job, interleaved, each in a
transaction that is rolled back so every fetch sees the same queue. Also recorded: how
many different teams the first ten fair fetches in a row serve.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from bench.common import create_job, fresh_environment, seed_videos

TEAMS = 10
JOBS_PER_TEAM = 100
ROUNDS = 60
CAP = 2

FETCHES = {
    "engine": "SELECT id FROM procrastinate_fetch_job_v2(ARRAY['videos']::varchar[], NULL)",
    "fair": "SELECT id FROM reeldocs_fetch_fair_job(ARRAY['videos']::varchar[], NULL, 0)",
    "fair_capped": (
        f"SELECT id FROM reeldocs_fetch_fair_job(ARRAY['videos']::varchar[], NULL, {CAP})"
    ),
}


async def _queue_jobs(settings: Any, urls: Any) -> None:
    from reeldocs.core.db import create_engine
    from reeldocs.jobs.queue import build_queue

    engine = create_engine(urls, pool_size=2)
    queue = build_queue(urls.libpq, settings)
    try:
        async with queue.open_async():
            for _ in range(TEAMS):
                user, videos = seed_videos(
                    urls.libpq, "videos/bench/source", "video/mp4", 1_000, 10.0, JOBS_PER_TEAM
                )
                for video in videos:
                    await create_job(engine, queue, settings, user, video, ["en"])
    finally:
        await engine.dispose()


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2),
    }


def _teams_served(conn: psycopg.Connection, fetches: int) -> int:
    with conn.transaction(force_rollback=True):
        teams = [
            conn.execute(
                "SELECT job.org_id FROM processing_jobs job WHERE job.queue_job_id = ("
                + FETCHES["fair"]
                + ")"
            ).fetchone()
            for _ in range(fetches)
        ]
    return len({row[0] for row in teams if row})


def run() -> dict[str, Any]:
    _, settings, urls, _ = fresh_environment("reeldocs-bench-fair-")
    asyncio.run(_queue_jobs(settings, urls))
    times: dict[str, list[float]] = {name: [] for name in FETCHES}
    with psycopg.connect(urls.libpq, autocommit=True) as conn:
        conn.execute("ANALYZE")
        for _ in range(ROUNDS):
            for name, sql in FETCHES.items():
                with conn.transaction(force_rollback=True):
                    started = time.perf_counter()
                    conn.execute(sql).fetchone()
                    times[name].append((time.perf_counter() - started) * 1000)
        served = _teams_served(conn, TEAMS)
    return {
        "queued": TEAMS * JOBS_PER_TEAM,
        "teams": TEAMS,
        "cap": CAP,
        **{name: _ms(values) for name, values in times.items()},
        "teams_served_by_first_10_fetches": served,
    }


if __name__ == "__main__":
    print(run())
