"""What uploads killed halfway leave is removed when a worker starts, once a day old;
real videos' files, and uploads that may still be going on, stay."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from support.api import bearer_client, create_project, upload_video
from support.media_factory import make_slide_video

from reeldocs.core.storage import LocalStorage
from reeldocs.videos.service import SCRATCH_DIR_NAME, source_key, video_prefix
from tests.conftest import WorkerProcesses

TWO_DAYS = 2 * 24 * 3600
GONE_WITHIN_SECONDS = 60.0  # a bound for the wait, not a measurement

# Streams the first bytes of an upload the way the upload route does (the storage's
# writer, and for S3 storage a scratch copy in the data directory), then waits to be
# killed.
_KILLED_MID_UPLOAD = """
import os, sys, tempfile
from pathlib import Path
from reeldocs.core.storage import LocalStorage
from reeldocs.videos.upload import SCRATCH_COPY_PREFIX
storage_root, key, scratch_dir = sys.argv[1:4]
writer = LocalStorage(Path(storage_root)).writer(key)
writer.write(b"\\0" * (2 * 1024 * 1024))
Path(scratch_dir).mkdir(exist_ok=True)
fd, _ = tempfile.mkstemp(dir=scratch_dir, prefix=SCRATCH_COPY_PREFIX)
os.write(fd, b"\\0" * 1024)
print("written", flush=True)
sys.stdin.read()
"""


def kill_mid_upload(storage_root: Path, key: str, scratch_dir: Path) -> set[Path]:
    """Run an upload until its first bytes are written, SIGKILL it; the files it left."""
    before = set(scratch_dir.glob("*")) if scratch_dir.exists() else set()
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_MID_UPLOAD, str(storage_root), key, str(scratch_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == b"written\n"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.stdin is not None
    process.stdin.close()
    process.stdout.close()
    left = set((storage_root / key).parent.iterdir()) | (set(scratch_dir.glob("*")) - before)
    assert left, "the killed upload left nothing to sweep"
    return left


def age(paths: set[Path], seconds: float) -> None:
    """Make files and folders look last written `seconds` ago."""
    then = time.time() - seconds
    for path in paths:
        os.utime(path, (then, then))


def wait_until_gone(paths: set[Path]) -> None:
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while left := {path for path in paths if path.exists()}:
        assert time.monotonic() < deadline, f"still there: {sorted(left)}"
        time.sleep(0.1)


def test_a_starting_worker_removes_what_killed_uploads_left(
    user: httpx.Client, workers: WorkerProcesses, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    storage = LocalStorage(Path(os.environ["REELDOCS_STORAGE_URL"]))
    data_dir = Path(os.environ["REELDOCS_DATA_DIR"])
    scratch_dir = data_dir / SCRATCH_DIR_NAME
    api = bearer_client(user)
    request.addfinalizer(api.close)
    project = create_project(api)
    real = upload_video(api, project["id"], make_slide_video(tmp_path / "real.mp4", ["Hi"], 1.0))
    real_folder = storage.path(video_prefix(uuid.UUID(real["id"])))
    # A worker killed while storing a screenshot of the real video leaves this.
    (real_folder / ".partial-shot-00001.jpg").write_bytes(b"half a picture")

    killed = kill_mid_upload(storage.root, source_key(uuid.uuid4()), scratch_dir)
    # Killed after its file was complete, before the video's row was recorded.
    unrecorded = uuid.uuid4()
    writer = storage.writer(source_key(unrecorded))
    writer.write(b"a whole file nobody recorded")
    writer.commit()
    unrecorded_folder = storage.path(video_prefix(unrecorded))
    # An upload that may still be going on: written a moment ago.
    recent_id = uuid.uuid4()
    recent = kill_mid_upload(storage.root, source_key(recent_id), scratch_dir)

    abandoned = killed | {
        real_folder / ".partial-shot-00001.jpg",
        unrecorded_folder / "source",
        unrecorded_folder,
    }
    abandoned |= {path.parent for path in killed if path.parent != scratch_dir}
    age(abandoned | set(real_folder.iterdir()) | {real_folder}, TWO_DAYS)

    workers.start()
    wait_until_gone(abandoned)

    assert sorted(path.name for path in real_folder.iterdir()) == ["source"]
    assert api.get(f"/api/videos/{real['id']}/file").status_code == 200
    assert all(path.exists() for path in recent), "an upload under way must stay"
    shutil.rmtree(storage.path(video_prefix(recent_id)))
    for path in recent:
        if path.parent == scratch_dir:
            path.unlink()
