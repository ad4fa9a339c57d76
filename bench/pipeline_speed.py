"""Offline pipeline speed, memory and output quality on generated slide videos with speech.

The 60 s 1280×720 video is the product tour (six titled slides with bullet lines, two
of them light on dark, read aloud by festival's voice); the 10 min 640×360 one is a
plain slideshow read by espeak-ng. For each, a real `reeldocs worker`
process runs the whole job (en + es): the figure is the video's length divided
by the job's processing time (started_at → completed_at in the database). The
short video is processed five times in a row and the median job reported with the
spread, since one run on a shared machine varies by a tenth or more. The worker (with
the speech model it keeps loaded) and any children it starts are sampled every 100 ms
for resident memory (summed over the process tree) and CPU time, so "both cores used"
shows as CPU seconds per wall second near 2. Scene detection alone is timed in this
process on the 720p video. What the last tour job stored is then compared with what
the video shows and says (bench/quality.py).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench import quality
from bench.common import ROOT, create_job_once, fresh_environment, seed_videos

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
    jobs: int  # the same video processed this many times, one job after another
    processing_seconds: float  # the median job
    processing_seconds_each: list[float]
    times_real_time: float  # of the median job
    times_real_time_range: tuple[float, float]
    cpu_seconds_per_second: float
    peak_rss_mb: float
    status: str
    warm_up_job_seconds: float  # the worker's first job, a 5 s clip
    last_video: str  # the video of the last job, whose docs can be inspected


class TreeSampler:
    """Peak RSS and CPU time of a process and all its children."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.cpu: dict[int, float] = {}
        # CPU time already spent before sampling began, by processes that live on (the
        # worker, with the speech model it keeps loaded between jobs).
        self.before: dict[int, float] = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            times = process.cpu_times()
            self.before[process.pid] = times.user + times.system
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
        return sum(used - self.before.get(pid, 0.0) for pid, used in self.cpu.items())


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
    key = f"bench/{source.name}"
    (storage / "bench").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, storage / key)
    user, videos = seed_videos(libpq, key, info.mime, info.size_bytes, duration, 1)
    return user, videos[0]


def _process_and_wait(settings: Any, urls: Any, user: Any, video: Any) -> tuple[str, float]:
    """Create the job, wait for it; its status and processing seconds (database clock)."""
    job_id = asyncio.run(create_job_once(settings, urls, user, video, ["en", "es"]))
    with psycopg.connect(urls.libpq, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT status, extract(epoch FROM completed_at - started_at) "
                "FROM processing_jobs WHERE id = %s",
                (job_id,),
            ).fetchone()
            assert row is not None
            if row[0] not in ("pending", "processing"):
                return str(row[0]), float(row[1] or 0.0)
            time.sleep(0.2)


def run_pipeline(
    env: dict[str, str],
    settings: Any,
    urls: Any,
    source: Path,
    duration: float,
    size: str,
    log: Path,
    warm_up: Path,
    jobs: int = 1,
) -> PipelineRun:
    """The job's figures in a worker that has already processed one short clip, as a
    long-running worker has: a fresh process's first job also pays for its imports.
    With `jobs` > 1 the video is processed that many times and the median job reported."""
    storage = Path(env["REELDOCS_STORAGE_URL"])
    seeded = [_seed_video(urls.libpq, storage, source, duration) for _ in range(jobs)]
    warm_user, warm_video = _seed_video(urls.libpq, storage, warm_up, 5.0)
    with open(log, "ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "reeldocs.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _, first_job = _process_and_wait(settings, urls, warm_user, warm_video)
        results: list[tuple[float, str]] = []
        with TreeSampler(worker.pid) as sampler:
            started = time.monotonic()
            for user, video in seeded:
                status, processing = _process_and_wait(settings, urls, user, video)
                results.append((processing, status))
            wall = time.monotonic() - started
        seconds = sorted(processing for processing, _ in results)
        median = seconds[len(seconds) // 2]
        return PipelineRun(
            video_seconds=duration,
            size=size,
            jobs=jobs,
            processing_seconds=round(median, 1),
            processing_seconds_each=[round(processing, 1) for processing, _ in results],
            times_real_time=round(duration / median, 1),
            times_real_time_range=(
                round(duration / seconds[-1], 1),
                round(duration / seconds[0], 1),
            ),
            cpu_seconds_per_second=round(sampler.cpu_seconds() / wall, 2),
            peak_rss_mb=round(sampler.peak / 1024 / 1024, 1),
            status=", ".join(sorted({status for _, status in results})),
            warm_up_job_seconds=round(first_job, 1),
            last_video=str(seeded[-1][1]),
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def run(long_minutes: int = 10) -> dict[str, Any]:
    env, settings, urls, data_dir = fresh_environment("reeldocs-bench-pipeline-")
    media = data_dir / "media"
    media.mkdir()
    from support.media_factory import make_product_tour

    tour = make_product_tour(media / "tour.mp4", voice="festival")
    long = make_video(media / "long.mp4", long_minutes * 60, (640, 360), 15)
    warm_up = make_video(media / "warm-up.mp4", 5, (640, 360), 15)
    log = data_dir / "worker.log"
    short_run = run_pipeline(
        env, settings, urls, tour.path, tour.duration, "1280x720", log, warm_up, jobs=5
    )
    return {
        "scene_detection_720p": scene_detection_speed(tour.path, tour.duration),
        "pipeline_60s_720p": asdict(short_run),
        "quality_60s_720p": quality.measure(
            urls.libpq, uuid.UUID(short_run.last_video), tour.slides
        ),
        f"pipeline_{long_minutes}min_360p": asdict(
            run_pipeline(env, settings, urls, long, long_minutes * 60.0, "640x360", log, warm_up)
        ),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 10), indent=2))
