"""A 1 GiB source on S3 (moto's server on 127.0.0.1): a real `reeldocs worker` downloads it
while its heartbeats are read from the database, and the job must run exactly once.

The source is a short valid MP4 followed by a 1 GiB `free` box (which players and FFmpeg
skip), so the pipeline after the download takes seconds and the download is what is
measured. The worker keeps the default heartbeat (2 s) and stalled-after window (6 s).
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.common import ROOT, create_job_once, fresh_environment, seed_videos

sys.path.insert(0, str(ROOT / "tests"))

GIB = 1024 * 1024 * 1024
PIECE = 8 * 1024 * 1024
BUCKET = "reeldocs-bench"


def _store_source(storage: Any, key: str, video: Path, padding: int) -> int:
    """The MP4, then a `free` box of `padding` bytes; the object's size."""
    header = struct.pack(">I4s", padding, b"free")
    writer = storage.writer(key)
    data = video.read_bytes()
    writer.write(data + header)
    zeros = bytes(PIECE)
    left = padding - len(header)
    while left > 0:
        writer.write(zeros[: min(PIECE, left)])
        left -= min(PIECE, left)
    writer.commit()
    return len(data) + padding


def _job_state(libpq: str, job_id: uuid.UUID) -> tuple[str, str, int, datetime | None]:
    with psycopg.connect(libpq) as conn:
        row = conn.execute(
            """
            SELECT p.status, coalesce(p.step_message, ''), p.attempt, w.last_heartbeat
            FROM processing_jobs p
            LEFT JOIN procrastinate_jobs j ON j.id = p.queue_job_id
            LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
            WHERE p.id = %s
            """,
            (job_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def run() -> dict[str, Any]:
    from moto.server import ThreadedMotoServer
    from support.media_factory import make_slide_video

    from reeldocs.core.storage import WORKER_TIMEOUTS, S3Storage

    env, settings, urls, data_dir = fresh_environment("reeldocs-bench-s3-")
    aws = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(aws)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's log of every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        storage = S3Storage(BUCKET, "bench", endpoint, WORKER_TIMEOUTS)
        storage.client.create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory() as tmp:
            video = make_slide_video(Path(tmp) / "tour.mp4", ["Storage", "Heartbeats"], 1.0)
            key = f"videos/{uuid.uuid4()}/source"
            started = time.monotonic()
            size = _store_source(storage, key, video, GIB)
            upload_seconds = time.monotonic() - started
        user, (video_id,) = seed_videos(urls.libpq, key, "video/mp4", size, 2.0, 1)
        env.update(aws, REELDOCS_STORAGE_URL=f"s3://{BUCKET}/bench")
        env["REELDOCS_S3_ENDPOINT_URL"] = endpoint
        with open(data_dir / "worker.log", "ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "reeldocs.cli", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        job_id = asyncio.run(create_job_once(settings, urls, user, video_id, ["en"]))

        heartbeats: list[datetime] = []
        fetching_from = fetching_until = None
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            status, message, attempt, beat = _job_state(urls.libpq, job_id)
            now = time.monotonic()
            if message.startswith("Fetching the video") and fetching_from is None:
                fetching_from = now
            elif fetching_from is not None and fetching_until is None:
                if not message.startswith("Fetching the video"):
                    fetching_until = now
            if fetching_from is not None and fetching_until is None and beat is not None:
                if not heartbeats or beat != heartbeats[-1]:
                    heartbeats.append(beat)
            if status not in ("pending", "processing"):
                break
            time.sleep(0.1)
        gaps = [(b - a).total_seconds() for a, b in zip(heartbeats, heartbeats[1:], strict=False)]
        download = (fetching_until or time.monotonic()) - (fetching_from or time.monotonic())
        return {
            "object_bytes": size,
            "upload_seconds": round(upload_seconds, 1),
            "download_seconds": round(download, 1),
            "download_mb_per_s": round(size / 1e6 / download, 1) if download > 0 else None,
            "heartbeats_during_download": len(heartbeats),
            "longest_heartbeat_gap_s": round(max(gaps), 2) if gaps else None,
            "heartbeat_interval_s": settings.heartbeat_seconds,
            "stalled_after_s": settings.stalled_after_seconds,
            "job_status": status,
            "job_attempt": attempt,
        }
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        server.stop()


if __name__ == "__main__":
    print(run())
