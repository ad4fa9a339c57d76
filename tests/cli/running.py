"""What the command's tests share besides fixtures."""

from __future__ import annotations

import os
import re
import subprocess
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
