"""Job polling under open-loop load: how many browser tabs `reeldocs serve` holds.

A fresh embedded PostgreSQL gets `USERS` users, each with a team, a project, a video
and a job marked `processing` (rows only: no worker will ever take them), one API
token and one browser session. `reeldocs serve` then runs as `make run` starts it, on
a free port, and a separate load process (bench/polling_load.py) simulates tabs, each
asking every 2 s for one of those jobs and revalidating with the ETag it was given:

- Bearer: `GET /api/jobs/{id}` with `Authorization: Bearer …`;
- cookie: the same with the session cookie;
- job card: `GET /projects/{p}/jobs/{j}/card` as htmx asks it (the job page's poll).

Each scenario climbs a ladder of tab counts and stops at the first step whose p99
latency is over 50 ms; "tabs held" is the last step within it. For comparison the
same ladder runs against a trivial FastAPI endpoint served the same way (the same
process model, loop and HTTP parser), and the Bearer and job-card ladders run again
while a real offline job (en + es) keeps the worker of `reeldocs serve` busy.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import create_job_once, fresh_environment
from reeldocs.serving import default_web_processes

USERS = 50
INTERVAL_S = 2.0  # how often each tab polls, as the pages do
# Two polls per tab before measuring: the first opens the connection and fetches the
# whole answer with its ETag (all tabs at once, a burst no real page load makes), the
# second revalidates. Measured from the first poll on, that burst's queue spilled into
# the window (every answer over 40 ms in the first 0.4 s of it).
WARMUP_S = 4.0
# Ten polls per tab measured at each step: at 1,000 tabs, 10,000 answers, so one
# scheduling hiccup of the shared machine does not decide the p99 alone.
STEP_S = 20.0
GRACE_S = 10.0
P99_GOAL_MS = 50.0
GOAL_TABS = 1000  # 500 requests/s
LADDER = (500, 1000, 1500, 2000, 3000, 4000)
JOB_VIDEO_SECONDS = 120
SETTLE_S = 5.0


@dataclass(frozen=True)
class Seeded:
    project: uuid.UUID
    job: uuid.UUID
    token: str
    session: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seed(libpq: str, users: int = USERS) -> list[Seeded]:
    """Users with a team, project, video, processing job, API token and session each."""
    seeded: list[Seeded] = []
    with psycopg.connect(libpq) as conn:
        for index in range(users):
            user, org, project, video, job = (uuid.uuid4() for _ in range(5))
            token, session = "rdk_" + secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            conn.execute(
                "INSERT INTO users (id, email, password_hash) VALUES (%s, %s, 'x')",
                (user, f"poll-{index}-{user.hex[:6]}@example.com"),
            )
            conn.execute(
                "INSERT INTO organizations (id, name, slug) VALUES (%s, 'Poll', %s)",
                (org, f"poll-{org.hex[:8]}"),
            )
            conn.execute(
                "INSERT INTO organization_members (org_id, user_id, role) VALUES (%s, %s, 'owner')",
                (org, user),
            )
            conn.execute(
                "INSERT INTO projects (id, org_id, name, slug) VALUES (%s, %s, 'Poll', %s)",
                (project, org, f"poll-{project.hex[:8]}"),
            )
            conn.execute(
                "INSERT INTO videos (id, org_id, project_id, title, status, storage_path, mime, "
                "size_bytes, duration_seconds) VALUES (%s, %s, %s, 'Product tour', "
                "'processing', 'bench/none.mp4', 'video/mp4', 1000, 60)",
                (video, org, project),
            )
            conn.execute(
                "INSERT INTO processing_jobs (id, org_id, project_id, video_id, status, step, "
                "step_message, progress, languages, language_results, run_id, "
                "video_status_before, started_at) VALUES (%s, %s, %s, %s, 'processing', "
                "'transcribing', 'Recognising speech', 0.42, ARRAY['en', 'es'], "
                '\'{"en": {"status": "pending"}, "es": {"status": "pending"}}\', %s, '
                "'uploaded', now())",
                (job, org, project, video, uuid.uuid4()),
            )
            conn.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash) VALUES (%s, 'poll', %s)",
                (user, _hash(token)),
            )
            conn.execute(
                "INSERT INTO user_sessions (token_hash, user_id, expires_at) "
                "VALUES (%s, %s, now() + interval '1 day')",
                (_hash(session), user),
            )
            seeded.append(Seeded(project, job, token, session))
    return seeded


def targets(kind: str, seeded: list[Seeded]) -> list[dict[str, Any]]:
    if kind == "trivial":
        return [{"path": "/ping", "headers": {}}]
    out: list[dict[str, Any]] = []
    for row in seeded:
        if kind == "bearer":
            out.append(
                {
                    "path": f"/api/jobs/{row.job}",
                    "headers": {"Authorization": f"Bearer {row.token}"},
                }
            )
        elif kind == "cookie":
            out.append(
                {
                    "path": f"/api/jobs/{row.job}",
                    "headers": {"Cookie": f"reeldocs_session={row.session}"},
                }
            )
        elif kind == "card":
            out.append(
                {
                    "path": f"/projects/{row.project}/jobs/{row.job}/card",
                    "headers": {
                        "Cookie": f"reeldocs_session={row.session}",
                        "HX-Request": "true",
                        "HX-Target": "job-card",
                    },
                }
            )
        else:
            raise ValueError(kind)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within 120 s:\n{log.read_text()[-3000:]}")


@contextmanager
def serving(command: list[str], env: dict[str, str], log: Path, ready_path: str) -> Iterator[int]:
    port = free_port()
    with open(log, "ab") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}{ready_path}", server, log)
        time.sleep(SETTLE_S)  # the first process answers while the others still import
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def load(port: int, kind_targets: list[dict[str, Any]], tabs: int, env: dict[str, str]) -> Any:
    plan = {
        "host": "127.0.0.1",
        "port": port,
        "targets": kind_targets,
        "tabs": tabs,
        "interval": INTERVAL_S,
        "warmup": WARMUP_S,
        "seconds": STEP_S,
        "grace": GRACE_S,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.polling_load"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        env=env,
        timeout=WARMUP_S + STEP_S + GRACE_S + 60,
        check=True,
    )
    return json.loads(done.stdout)


def ladder(
    port: int, kind_targets: list[dict[str, Any]], env: dict[str, str], steps: tuple[int, ...]
) -> dict[str, Any]:
    results = []
    held = 0
    for tabs in steps:
        result = load(port, kind_targets, tabs, env)
        results.append(result)
        print(json.dumps(result), flush=True)
        within = (
            result["p99_ms"] <= P99_GOAL_MS
            and result["errors"] == 0
            and result["answered"] >= result["expected"] * 0.99
        )
        if not within:
            break
        held = tabs
    return {"tabs_held": held, "steps": results}


class JobLoop:
    """Keeps a real offline job running: the same video processed again as soon as its
    last job ends, until stopped."""

    def __init__(self, settings: Any, urls: Any, user: uuid.UUID, video: uuid.UUID) -> None:
        self.settings, self.urls, self.user, self.video = settings, urls, user, video
        self.finished: list[tuple[str, float]] = []  # (status, processing seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            job = asyncio.run(
                create_job_once(self.settings, self.urls, self.user, self.video, ["en", "es"])
            )
            with psycopg.connect(self.urls.libpq, autocommit=True) as conn:
                while True:
                    row = conn.execute(
                        "SELECT status, extract(epoch FROM completed_at - started_at) "
                        "FROM processing_jobs WHERE id = %s",
                        (job,),
                    ).fetchone()
                    assert row is not None
                    if row[0] not in ("pending", "processing"):
                        self.finished.append((str(row[0]), round(float(row[1] or 0.0), 1)))
                        break
                    if self._stop.wait(0.2):
                        return

    def wait_until_processing(self) -> None:
        deadline = time.monotonic() + 120
        with psycopg.connect(self.urls.libpq, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM processing_jobs WHERE video_id = %s "
                    "AND status = 'processing'",
                    (self.video,),
                ).fetchone()
                if row is not None and row[0] > 0:
                    return
                time.sleep(0.2)
        raise RuntimeError("the worker of reeldocs serve did not start the job within 120 s")

    def __enter__(self) -> JobLoop:
        self._thread.start()
        self.wait_until_processing()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=300)


def _job_video(urls: Any, data_dir: Path, env: dict[str, str]) -> tuple[uuid.UUID, uuid.UUID]:
    from bench.pipeline_speed import _seed_video, make_video

    source = make_video(data_dir / "media" / "job.mp4", JOB_VIDEO_SECONDS, (640, 360), 15)
    return _seed_video(urls.libpq, Path(env["REELDOCS_STORAGE_URL"]), source, JOB_VIDEO_SECONDS)


def run() -> dict[str, Any]:
    env, settings, urls, data_dir = fresh_environment("reeldocs-bench-polling-")
    (data_dir / "media").mkdir()
    seeded = seed(urls.libpq)
    log = data_dir / "serve.log"
    serve = [sys.executable, "-m", "reeldocs.cli", "serve"]
    out: dict[str, Any] = {"web_processes": default_web_processes(), "users": len(seeded)}
    try:
        with serving([*serve, "--no-worker"], env, log, "/healthz") as port:
            for kind in ("bearer", "cookie", "card"):
                out[kind] = ladder(port, targets(kind, seeded), env, LADDER)
        trivial = [sys.executable, "-m", "bench.trivial_app"]
        with serving(trivial, env, data_dir / "trivial.log", "/ping") as port:
            out["trivial"] = ladder(port, targets("trivial", seeded), env, LADDER)
        user, video = _job_video(urls, data_dir, env)
        with (
            serving(serve, env, log, "/healthz") as port,
            JobLoop(settings, urls, user, video) as jobs,
        ):
            for kind in ("bearer", "card"):
                out[f"{kind}_while_a_job_runs"] = ladder(port, targets(kind, seeded), env, LADDER)
        out["jobs_while_measuring"] = jobs.finished
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def held(result: dict[str, Any]) -> dict[str, Any]:
    """The last step within the goal (or the first step, when none was)."""
    within = [step for step in result["steps"] if step["tabs"] <= result["tabs_held"]]
    return within[-1] if within else result["steps"][0]


def at_tabs(result: dict[str, Any], tabs: int) -> dict[str, Any] | None:
    return next((step for step in result["steps"] if step["tabs"] == tabs), None)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
