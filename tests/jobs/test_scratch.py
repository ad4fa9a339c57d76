"""A run's scratch files (`<data dir>/work/<run_id>/`) are private while the job runs and
gone once it ends, even when the worker that made them was SIGKILLed.

Real worker processes; the fault hooks hold a job still in a step for as long as a test
needs (a hold file), so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from support.api import create_project, process, upload_video, wait_for_job
from support.media_factory import make_slide_video
from support.private_files import PERMISSIVE_UMASK, open_to_others

from tests.conftest import WorkerProcesses

SLIDES = ["Sign in", "Save"]
SPEECH = ["sign in with your account", "press save to keep your changes"]
GONE_WITHIN_SECONDS = 60.0  # a bound for the wait, not a measurement


@pytest.fixture(scope="module")
def speech_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "scratch.mp4"
    return make_slide_video(path, SLIDES, 3.0, speech=SPEECH)


@pytest.fixture
def hold_files(tmp_path: Path) -> Iterator[list[Path]]:
    """Files that hold a step while they exist; all removed at the end, whatever happened."""
    files = [tmp_path / f"hold-{n}" for n in range(2)]
    for path in files:
        path.touch()
    yield files
    for path in files:
        path.unlink(missing_ok=True)


def run_id_of(db_url: str, job_id: str) -> str:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT run_id FROM processing_jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None
    return str(row[0])


def wait_until_gone(path: Path) -> None:
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while path.exists():
        assert time.monotonic() < deadline, f"{path} is still there: {sorted(path.iterdir())}"
        time.sleep(0.1)


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_a_killed_workers_scratch_goes_when_another_worker_here_takes_its_job(
    api: httpx.Client,
    speech_video: Path,
    workers: WorkerProcesses,
    db_url: str,
    hold_files: list[Path],
) -> None:
    first_hold, second_hold = hold_files
    doomed = workers.start(
        REELDOCS_TEST_HOLD_AT="transcribing", REELDOCS_TEST_HOLD_FILE=str(first_hold)
    )
    project = create_project(api)
    video = upload_video(api, project["id"], speech_video)
    job_id = process(api, video["id"], ["en"])
    wait_for_job(api, job_id, until=lambda j: j["step"] == "transcribing", timeout=120)
    scratch = Path(os.environ["REELDOCS_DATA_DIR"]) / "work" / run_id_of(db_url, job_id)
    assert (scratch / "audio.wav").is_file()
    assert open_to_others(scratch) == []

    kill(doomed)
    # Whatever the dead worker left must not be trusted: it may have died mid-write.
    (scratch / "left-by-the-dead-worker").write_bytes(b"half a screenshot")
    workers.start(REELDOCS_TEST_HOLD_AT="generating_docs", REELDOCS_TEST_HOLD_FILE=str(second_hold))
    resumed = wait_for_job(api, job_id, until=lambda j: j["step"] == "generating_docs", timeout=120)
    assert resumed["attempt"] == 2
    assert scratch.is_dir(), "the new worker works in the run's scratch folder"
    assert not (scratch / "left-by-the-dead-worker").exists()
    assert open_to_others(scratch) == []

    second_hold.unlink()
    done = wait_for_job(api, job_id, timeout=180)
    assert done["status"] == "completed", done
    assert not scratch.exists()


def test_a_killed_workers_scratch_on_its_own_machine_goes_at_its_next_start(
    api: httpx.Client,
    speech_video: Path,
    workers: WorkerProcesses,
    db_url: str,
    hold_files: list[Path],
    tmp_path: Path,
) -> None:
    """A worker on another machine has a data directory of its own; it was started under
    a permissive umask and must still keep everything in it to itself."""
    own_data_dir = tmp_path / "other-machine"
    env = workers.env(
        REELDOCS_DATA_DIR=str(own_data_dir),
        REELDOCS_DATABASE_URL=db_url,
        REELDOCS_TEST_HOLD_AT="transcribing",
        REELDOCS_TEST_HOLD_FILE=str(hold_files[0]),
    )

    def start_elsewhere(**changes: str) -> subprocess.Popen[bytes]:
        log = open(tmp_path / "other-machine.log", "ab")  # noqa: SIM115 - the process's
        process = subprocess.Popen(
            [sys.executable, "-m", "reeldocs.cli", "worker"],
            env={**env, **changes},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(PERMISSIVE_UMASK),
        )
        log.close()
        workers.processes.append(process)  # stopped with the others at the end
        return process

    doomed = start_elsewhere()
    project = create_project(api)
    video = upload_video(api, project["id"], speech_video)
    job_id = process(api, video["id"], ["en"])
    wait_for_job(api, job_id, until=lambda j: j["step"] == "transcribing", timeout=120)
    run_id = run_id_of(db_url, job_id)
    scratch = own_data_dir / "work" / run_id
    assert (scratch / "audio.wav").is_file()
    assert stat.S_IMODE(own_data_dir.stat().st_mode) == 0o700
    assert open_to_others(own_data_dir) == []

    kill(doomed)
    workers.start()  # on this machine's data directory
    done = wait_for_job(api, job_id, timeout=180)
    assert done["status"] == "completed", done
    assert done["attempt"] == 2
    assert not (Path(os.environ["REELDOCS_DATA_DIR"]) / "work" / run_id).exists()
    assert scratch.is_dir(), "nothing on the other machine has run since its worker died"

    start_elsewhere(REELDOCS_TEST_HOLD_AT="")
    wait_until_gone(scratch)
    assert open_to_others(own_data_dir) == []
