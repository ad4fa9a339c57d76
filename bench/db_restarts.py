"""What a database restart costs a running job, in every step of it.

On a fresh embedded PostgreSQL with real `reeldocs worker` processes. For each step,
one worker holds jobs at that step (REELDOCS_TEST_HOLD_AT); its first job warms it up
(the speech model loads), the second is released without a restart (the baseline), each
later one is released after `pg_ctl restart`.
The figures: how each job ended, its attempt count, how long the restart itself took,
and the seconds from release to completion beyond the baseline's (the seconds lost).
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from bench.common import ROOT, create_job_once, fresh_environment, seed_videos
from bench.jobs_latency import _wait_workers, _worker

sys.path.insert(0, str(ROOT / "tests"))

STEPS = ("uploading", "transcribing", "generating_docs", "translating_es", "subtitles")
LANGUAGES = ["en", "es"]
SLIDES = ["Sign in", "Open settings", "Save"]
SPEECH = [
    "sign in with your account",
    "open the settings page from the menu",
    "press save to keep your changes",
]
SECONDS_PER_SLIDE = 4.0


def _job_row(libpq: str, job_id: uuid.UUID) -> tuple[str, str, int] | None:
    """(status, step, attempt), or None while the database does not answer."""
    try:
        with psycopg.connect(libpq, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT status, step, attempt FROM processing_jobs WHERE id = %s", (job_id,)
            ).fetchone()
    except psycopg.OperationalError:
        return None
    assert row is not None
    return str(row[0]), str(row[1]), int(row[2])


def _wait(libpq: str, job_id: uuid.UUID, done: Any, timeout: float = 300) -> tuple[str, str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _job_row(libpq, job_id)
        if row is not None and done(row):
            return row
        time.sleep(0.05)
    raise RuntimeError(f"job {job_id} did not get there within {timeout} s: {row}")


def _held_run(
    settings: Any,
    urls: Any,
    user: uuid.UUID,
    video: uuid.UUID,
    step: str,
    hold: Path,
    restart: bool,
) -> dict[str, Any]:
    from reeldocs.core import embedded_db

    hold.touch()
    job_id = asyncio.run(create_job_once(settings, urls, user, video, LANGUAGES))
    _wait(urls.libpq, job_id, lambda row: row[1] == step or row[0] not in ("pending", "processing"))
    restart_seconds = None
    if restart:
        started = time.monotonic()
        embedded_db.restart()
        restart_seconds = round(time.monotonic() - started, 2)
    hold.unlink()
    released = time.monotonic()
    status, _, attempt = _wait(
        urls.libpq, job_id, lambda row: row[0] not in ("pending", "processing")
    )
    return {
        "status": status,
        "attempt": attempt,
        "restart_s": restart_seconds,
        "release_to_done_s": round(time.monotonic() - released, 2),
    }


def run(rounds: int = 3) -> dict[str, Any]:
    from support.media_factory import make_slide_video

    env, settings, urls, data_dir = fresh_environment("reeldocs-bench-restarts-")
    source = data_dir / "storage" / "bench" / "restarts.mp4"
    source.parent.mkdir(parents=True, exist_ok=True)
    make_slide_video(source, SLIDES, SECONDS_PER_SLIDE, speech=SPEECH)
    user, videos = seed_videos(
        urls.libpq,
        "bench/restarts.mp4",
        "video/mp4",
        source.stat().st_size,
        SECONDS_PER_SLIDE * len(SLIDES),
        len(STEPS) * (rounds + 2),
    )
    hold = data_dir / "hold"
    log = data_dir / "workers.log"
    figures: dict[str, Any] = {"rounds": rounds, "steps": {}}
    for index, step in enumerate(STEPS):
        worker = _worker(env, log, REELDOCS_TEST_HOLD_AT=step, REELDOCS_TEST_HOLD_FILE=str(hold))
        try:
            _wait_workers(urls.libpq, 1)
            mine = videos[index * (rounds + 2) : (index + 1) * (rounds + 2)]
            _held_run(settings, urls, user, mine[0], step, hold, restart=False)
            baseline = _held_run(settings, urls, user, mine[1], step, hold, restart=False)
            restarted = [
                _held_run(settings, urls, user, video, step, hold, restart=True)
                for video in mine[2:]
            ]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        lost = [r["release_to_done_s"] - baseline["release_to_done_s"] for r in restarted]
        figures["steps"][step] = {
            "baseline": baseline,
            "restarted": restarted,
            "completed": sum(r["status"] == "completed" for r in restarted),
            "attempts": sorted({r["attempt"] for r in restarted}),
            "restart_s_median": statistics.median(r["restart_s"] for r in restarted),
            "seconds_lost_median": round(statistics.median(lost), 2),
            "seconds_lost_max": round(max(lost), 2),
        }
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2))
