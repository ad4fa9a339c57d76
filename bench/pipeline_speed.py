"""Offline pipeline speed and memory on generated slide videos with speech.

For each video (60 s at 1280×720, and 10 min at 640×360) a real `reeldocs worker`
process runs the whole job (en + es): the figure is the video's length divided
by the job's processing time (started_at → completed_at in the database). The
worker and its speech-recognition children are sampled every 100 ms for resident
memory (summed over the process tree) and CPU time, so "both cores used" shows
as CPU seconds per wall second near 2. Scene detection alone is timed in this
process on the 720p video.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

PHRASES = [
    "open the dashboard and choose a project",
    "press the upload button and pick your video file",
    "type a title that your team will recognise",
    "choose the languages for the documentation",
    "wait while the job extracts the content",
    "read the chapters and follow the links to the video",
]


@dataclass(frozen=True)
class PipelineRun:
    video_seconds: float
    size: str
    processing_seconds: float
    times_real_time: float
    cpu_seconds_per_second: float
    peak_rss_mb: float
    status: str


class TreeSampler:
    """Peak RSS and CPU time of a process and all its children."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for process in processes:
                try:
                    total += process.memory_info().rss
                    times = process.cpu_times()
                    self.cpu[process.pid] = times.user + times.system
                except psutil.NoSuchProcess:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def make_video(path: Path, seconds: int, size: tuple[int, int], fps: int) -> Path:
    from support.media_factory import make_slide_video

    slides = seconds // 5
    texts = [f"Step {i + 1}: {PHRASES[i % len(PHRASES)].split(' and ')[0]}" for i in range(slides)]
    speech = [PHRASES[i % len(PHRASES)] for i in range(slides)]
    return make_slide_video(path, texts, 5.0, size=size, fps=fps, speech=speech)


def scene_detection_speed(path: Path, duration: float) -> dict[str, float]:
    from reeldocs.media.scenes import detect_scenes

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        scenes = detect_scenes(path)
        best = min(best, time.perf_counter() - started)
    return {
        "video_seconds": duration,
        "seconds": round(best, 2),
        "times_real_time": round(duration / best, 1),
        "scenes": len(scenes),
    }


def _seed_video(libpq: str, storage: Path, source: Path, duration: float) -> tuple[Any, ...]:
    from reeldocs.media.probe import probe

    info = probe(source)
    user, org, project, video = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    key = f"videos/{video}/source"
    target = storage / key
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    with psycopg.connect(libpq) as conn:
        conn.execute(
            "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, 'x')",
            (user, f"bench-{user.hex[:8]}@example.com"),
        )
        conn.execute(
            "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Bench', %s)",
            (org, f"bench-{org.hex[:8]}"),
        )
        conn.execute(
            "INSERT INTO organization_members (org_id, user_id, role) VALUES (%s, %s, 'owner')",
            (org, user),
        )
        conn.execute(
            "INSERT INTO projects (id, org_id, name, slug) VALUES (%s, %s, 'Bench', %s)",
            (project, org, f"bench-{project.hex[:8]}"),
        )
        conn.execute(
            "INSERT INTO videos (id, org_id, project_id, title, status, storage_path, mime, "
            "size_bytes, duration_seconds) "
            "VALUES (%s, %s, %s, 'Bench', 'uploaded', %s, %s, %s, %s)",
            (video, org, project, key, info.mime, info.size_bytes, duration),
        )
    return user, video


def _process(settings: Any, urls: Any, user: uuid.UUID, video: uuid.UUID) -> uuid.UUID:
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession

    from reeldocs.core.db import act_as_user, create_engine
    from reeldocs.core.deps import Actor
    from reeldocs.jobs import service
    from reeldocs.jobs.queue import build_queue

    async def create() -> uuid.UUID:
        engine = create_engine(urls, pool_size=1)
        queue = build_queue(urls.libpq, settings)
        async with queue.open_async():
            async with AsyncSession(engine, expire_on_commit=False) as session:
                async with session.begin():
                    await act_as_user(session, user)
                    job = await service.create_job(
                        session,
                        Actor(user, "bench@example.com", "bench", "token"),
                        queue,
                        settings,
                        video,
                        ["en", "es"],
                    )
        await engine.dispose()
        return job.id

    return asyncio.run(create())


def run_pipeline(
    env: dict[str, str],
    settings: Any,
    urls: Any,
    source: Path,
    duration: float,
    size: str,
    log: Path,
) -> PipelineRun:
    user, video = _seed_video(urls.libpq, Path(env["REELDOCS_STORAGE_URL"]), source, duration)
    with open(log, "ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "reeldocs.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with TreeSampler(worker.pid) as sampler:
            started = time.monotonic()
            job_id = _process(settings, urls, user, video)
            with psycopg.connect(urls.libpq, autocommit=True) as conn:
                while True:
                    row = conn.execute(
                        "SELECT status, extract(epoch FROM completed_at - started_at) "
                        "FROM processing_jobs WHERE id = %s",
                        (job_id,),
                    ).fetchone()
                    assert row is not None
                    if row[0] not in ("pending", "processing"):
                        break
                    time.sleep(0.2)
            wall = time.monotonic() - started
        processing = float(row[1] or wall)
        return PipelineRun(
            video_seconds=duration,
            size=size,
            processing_seconds=round(processing, 1),
            times_real_time=round(duration / processing, 1),
            cpu_seconds_per_second=round(sampler.cpu_seconds() / wall, 2),
            peak_rss_mb=round(sampler.peak / 1024 / 1024, 1),
            status=str(row[0]),
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def run(long_minutes: int = 10) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="reeldocs-bench-pipeline-"))
    env = dict(os.environ)
    env.update(
        REELDOCS_DATA_DIR=str(data_dir),
        REELDOCS_STORAGE_URL=str(data_dir / "storage"),
        REELDOCS_PROVIDER="offline",
    )
    env.pop("REELDOCS_DATABASE_URL", None)
    for name in ("REELDOCS_DATA_DIR", "REELDOCS_STORAGE_URL", "REELDOCS_PROVIDER"):
        os.environ[name] = env[name]
    os.environ.pop("REELDOCS_DATABASE_URL", None)
    from reeldocs.core.db import database_urls, migrate
    from reeldocs.core.settings import load_settings

    settings = load_settings()
    urls = database_urls(settings)
    migrate(urls)
    media = data_dir / "media"
    media.mkdir()
    short = make_video(media / "short.mp4", 60, (1280, 720), 30)
    long = make_video(media / "long.mp4", long_minutes * 60, (640, 360), 15)
    log = data_dir / "worker.log"
    return {
        "scene_detection_720p": scene_detection_speed(short, 60.0),
        "pipeline_60s_720p": asdict(
            run_pipeline(env, settings, urls, short, 60.0, "1280x720", log)
        ),
        f"pipeline_{long_minutes}min_360p": asdict(
            run_pipeline(env, settings, urls, long, long_minutes * 60.0, "640x360", log)
        ),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10), indent=2))
