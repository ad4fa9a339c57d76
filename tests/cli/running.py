"""What the command's tests share besides fixtures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CLI_TIMEOUT_SECONDS = 120

# The `reeldocs` fixture: runs `python -m reeldocs.cli ARGS…` and returns what it did.
Reeldocs = Callable[..., subprocess.CompletedProcess[str]]


def embedded_server_pid() -> str | None:
    """The embedded PostgreSQL's process id, or None when the run uses an external one."""
    if os.environ.get("REELDOCS_DATABASE_URL"):
        return None
    pid_file = Path(os.environ["REELDOCS_DATA_DIR"]) / "pgdata" / "postmaster.pid"
    return pid_file.read_text().splitlines()[0]


def rows_of(listing: str) -> list[list[str]]:
    """The cells of a listing's rows below its header (columns are two or more spaces apart)."""
    header, *rows = listing.splitlines()
    assert header == header.upper(), listing
    return [re.split(r" {2,}", row) for row in rows]


def run_reeldocs(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m reeldocs.cli ARGS…` to its end, with what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "reeldocs.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )


def interrupt_when(
    env: dict[str, str], args: list[str], ready: Callable[[], bool]
) -> tuple[int, str, str]:
    """Start `reeldocs ARGS…`, press Ctrl-C (SIGINT) once `ready()` says so, and return
    its exit status, stdout and stderr."""
    command = [sys.executable, "-m", "reeldocs.cli", *args]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + CLI_TIMEOUT_SECONDS
            while not ready():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the command never got ready"
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=CLI_TIMEOUT_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
    return process.returncode, stdout, stderr
