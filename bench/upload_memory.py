"""Server memory while it receives a 1 GiB upload: baseline RSS, peak RSS, the increase.

Starts `reeldocs serve --no-worker --web-processes 1` on a fresh embedded PostgreSQL in a
temporary data directory and a free port, signs up, creates a project and streams a 1 GiB
video to it,
generated on the fly: a small real MP4 (index first) followed by a 1 GiB `free` box,
which players and FFmpeg skip. The server therefore receives, stores, probes and accepts
all of it. The resident memory of the server process (the Python process; PostgreSQL runs
in its own processes) is sampled every 50 ms from before the upload to its answer.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import psutil

MiB = 1024 * 1024
UPLOAD_BYTES = 1024 * MiB
SAMPLE_SECONDS = 0.05
BOUNDARY = "reeldocs-bench-boundary"


@dataclass(frozen=True)
class UploadMemory:
    upload_bytes: int
    status: int
    seconds: float
    baseline_rss_mb: float
    peak_rss_mb: float
    increase_mb: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def small_mp4(path: Path, seconds: int = 2) -> bytes:
    """A tiny real H.264 MP4 with its index first (so whatever follows it is never needed)."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for index in range(seconds * 10):
            picture = np.full((180, 320, 3), (index * 12) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path.read_bytes()


def multipart_body(video: bytes, total: int) -> Iterator[bytes]:
    """`total` bytes of file: the video, then one `free` box filling the rest, 1 MiB at a time."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        'filename="bench.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    yield video
    padding = total - len(video)
    yield padding.to_bytes(4, "big") + b"free"
    left = padding - 8
    zeros = bytes(MiB)
    while left > 0:
        piece = zeros if left >= MiB else zeros[:left]
        left -= len(piece)
        yield piece
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


class RssSampler:
    """Samples one process's resident set size in a thread until stopped."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._process.memory_info().rss)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _wait_until_up(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"reeldocs serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("reeldocs serve did not answer within 180 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run(upload_bytes: int = UPLOAD_BYTES) -> UploadMemory:
    workdir = Path(tempfile.mkdtemp(prefix="reeldocs-bench-upload-"))
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REELDOCS_DATABASE_URL", "REELDOCS_STORAGE_URL"}
    }
    env |= {
        "REELDOCS_DATA_DIR": str(workdir / "data"),
        "REELDOCS_MAX_UPLOAD_BYTES": str(upload_bytes + 64 * MiB),
        "REELDOCS_PROVIDER": "offline",
    }
    log = workdir / "server.log"
    video = small_mp4(workdir / "small.mp4")
    with open(log, "wb") as log_file:
        server = subprocess.Popen(
            # One web process: the one whose memory is sampled receives the upload.
            [sys.executable, "-m", "reeldocs.cli", "serve", "--no-worker"]
            + ["--web-processes", "1", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            _wait_until_up(client, server, log)
            email = f"bench-{os.urandom(4).hex()}@example.com"
            signup = client.post(
                "/api/auth/signup", json={"email": email, "password": "bench password 1"}
            )
            signup.raise_for_status()
            csrf = client.get("/api/auth/session").json()["csrf_token"]
            project = client.post("/api/projects", json={"name": "Bench"}).json()["id"]
            # One small request first so the baseline includes everything loaded on first use.
            client.get(f"/api/projects/{project}/videos").raise_for_status()
            time.sleep(0.5)
            baseline = psutil.Process(server.pid).memory_info().rss
            started = time.monotonic()
            with RssSampler(server.pid) as sampler:
                answer = client.post(
                    f"/api/projects/{project}/videos",
                    content=multipart_body(video, upload_bytes),
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "X-CSRF-Token": csrf,
                    },
                )
            seconds = time.monotonic() - started
            if answer.status_code == 201:
                client.delete(f"/api/videos/{answer.json()['id']}", headers={"X-CSRF-Token": csrf})
            else:
                print(f"the upload was answered {answer.status_code}: {answer.text}")
        peak = max([baseline, *sampler.samples])
        return UploadMemory(
            upload_bytes=upload_bytes,
            status=answer.status_code,
            seconds=round(seconds, 2),
            baseline_rss_mb=round(baseline / MiB, 1),
            peak_rss_mb=round(peak / MiB, 1),
            increase_mb=round((peak - baseline) / MiB, 1),
        )
    finally:
        _stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> UploadMemory:
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else UPLOAD_BYTES)
    print(json.dumps(asdict(result), indent=2))
    return result


if __name__ == "__main__":
    main()
