"""Job system figures: pickup latency beside raw Procrastinate, SIGKILL recovery, cancel latency.

Runs on a fresh embedded PostgreSQL in a temporary data directory, with real
`reeldocs worker` processes. Pickup latency is commit → claimed (status
processing, step uploading), measured with the database's clock on both ends;
raw Procrastinate's is commit → its own "started" event, for a no-op task, in
the same run and interleaved with ours.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import procrastinate
import psycopg

from bench.common import ROOT, create_job, create_job_once, fresh_environment, seed_videos

sys.path.insert(0, str(ROOT / "tests"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 0.5), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "min_ms": round(min(ms), 1),
        "max_ms": round(max(ms), 1),
    }


def _worker(env: dict[str, str], log: Path, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reeldocs.cli", "worker"],
        env={**env, **extra},
        stdout=open(log, "ab"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )


def _raw_worker(env: dict[str, str], libpq: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.raw_worker", libpq],
        env=env,
        cwd=ROOT,
        stdout=open(log, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )


def _wait_workers(libpq: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '5 seconds'"
            ).fetchone()
            if row and row[0] >= count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            time.sleep(0.1)


def _seed(libpq: str, storage_root: Path, videos: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    from support.media_factory import make_slide_video

    source = storage_root / "bench" / "source.mp4"
    source.parent.mkdir(parents=True, exist_ok=True)
    make_slide_video(source, ["Bench"], 2.0)
    return seed_videos(libpq, "bench/source.mp4", "video/mp4", source.stat().st_size, 2.0, videos)


async def _measure_pickup_and_cancel(
    settings: Any, urls: Any, user_id: uuid.UUID, videos: list[uuid.UUID], raw_libpq: str
) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from reeldocs.core.db import act_as_user, create_engine
    from reeldocs.core.deps import Actor
    from reeldocs.jobs import service
    from reeldocs.jobs.queue import build_queue

    engine = create_engine(urls)
    queue = build_queue(urls.libpq, settings)
    raw = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=raw_libpq))
    actor = Actor(user_id, "bench@example.com", "bench", "token")
    ours: list[float] = []
    ours_engine: list[float] = []
    theirs: list[float] = []
    cancels: list[float] = []
    async with queue.open_async(), raw.open_async():
        db = await psycopg.AsyncConnection.connect(urls.libpq, autocommit=True)
        for video_id in videos:
            job = await create_job(engine, queue, settings, user_id, video_id, ["en"])
            committed = time.time()
            while True:
                row = await (
                    await db.execute(
                        "SELECT extract(epoch FROM started_at) FROM processing_jobs WHERE id = %s",
                        (job.id,),
                    )
                ).fetchone()
                if row and row[0] is not None:
                    ours.append(float(row[0]) - committed)
                    break
                await asyncio.sleep(0.001)
            row = await (
                await db.execute(
                    "SELECT extract(epoch FROM at) FROM procrastinate_events "
                    "WHERE job_id = %s AND type = 'started'",
                    (job.queue_job_id,),
                )
            ).fetchone()
            if row:
                ours_engine.append(float(row[0]) - committed)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                async with session.begin():
                    await act_as_user(session, user_id)
                    await service.cancel_job(session, actor, queue, job.id)
                asked = time.monotonic()
            while True:
                row = await (
                    await db.execute(
                        "SELECT status FROM procrastinate_jobs WHERE id = %s", (job.queue_job_id,)
                    )
                ).fetchone()
                if row is None or row[0] not in ("todo", "doing"):
                    cancels.append(time.monotonic() - asked)
                    break
                await asyncio.sleep(0.001)

            raw_id = await raw.configure_task("bench.noop", queue="bench_raw").defer_async()
            committed = time.time()
            while True:
                row = await (
                    await db.execute(
                        "SELECT extract(epoch FROM at) FROM procrastinate_events "
                        "WHERE job_id = %s AND type = 'started'",
                        (raw_id,),
                    )
                ).fetchone()
                if row:
                    theirs.append(float(row[0]) - committed)
                    break
                await asyncio.sleep(0.001)
        await db.close()
    await engine.dispose()
    return {
        "reeldocs_pickup": summary_ms(ours),
        "reeldocs_engine_pickup": summary_ms(ours_engine),
        "procrastinate_pickup": summary_ms(theirs),
        "cancel_while_starting": summary_ms(cancels),
    }


def _measure_sigkill(
    env: dict[str, str],
    libpq: str,
    settings: Any,
    urls: Any,
    user_id: uuid.UUID,
    videos: list[uuid.UUID],
    log: Path,
) -> dict[str, Any]:
    times: list[float] = []
    with psycopg.connect(libpq, autocommit=True) as conn:
        for video_id in videos:
            doomed = _worker(env, log, REELDOCS_TEST_PAUSE_AT="uploading:120")
            _wait_workers(libpq, 1)
            job_id = asyncio.run(create_job_once(settings, urls, user_id, video_id, ["en"]))
            while conn.execute(
                "SELECT status FROM processing_jobs WHERE id = %s", (job_id,)
            ).fetchone() != ("processing",):
                time.sleep(0.01)
            survivor = _worker(env, log)
            _wait_workers(libpq, 2)
            os.kill(doomed.pid, signal.SIGKILL)
            killed = time.monotonic()
            doomed.wait()
            while True:
                row = conn.execute(
                    "SELECT attempt FROM processing_jobs WHERE id = %s", (job_id,)
                ).fetchone()
                if row and row[0] >= 2:
                    times.append(time.monotonic() - killed)
                    break
                if time.monotonic() - killed > 60:
                    raise RuntimeError("the job was not recovered within 60 s")
                time.sleep(0.02)
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(timeout=30)
            conn.execute(
                "DELETE FROM procrastinate_workers WHERE last_heartbeat < now() - interval '1 s'"
            )
    return {"sigkill_to_running_again_s": [round(t, 2) for t in times]}


def run(jobs: int = 200, kills: int = 3) -> dict[str, Any]:
    env, settings, urls, data_dir = fresh_environment("reeldocs-bench-jobs-")
    user_id, videos = _seed(urls.libpq, data_dir / "storage", jobs + kills)
    log = data_dir / "workers.log"
    worker = _worker(env, log)
    raw_worker = _raw_worker(env, urls.libpq, log)
    try:
        _wait_workers(urls.libpq, 2)
        time.sleep(1)
        figures = asyncio.run(
            _measure_pickup_and_cancel(settings, urls, user_id, videos[:jobs], urls.libpq)
        )
    finally:
        for process in (worker, raw_worker):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    figures.update(_measure_sigkill(env, urls.libpq, settings, urls, user_id, videos[jobs:], log))
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200), indent=2))
