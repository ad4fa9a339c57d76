"""Fault injection for Reeldocs' own crash and recovery tests.

Environment variables, read when a step starts, all empty in normal use:
REELDOCS_TEST_CRASH_AT=<step> makes the worker process kill itself (SIGKILL) as
that step starts; REELDOCS_TEST_PAUSE_AT=<step>:<seconds> holds the step so a
test can act while it is visibly running (kill the worker, restart the database);
REELDOCS_TEST_HOLD_AT=<step> with REELDOCS_TEST_HOLD_FILE=<path> holds the step for
as long as that file exists, so a test can look at a running job for as long as it
needs and then let it go by deleting the file, whatever the machine's speed;
REELDOCS_TEST_HOLD_AT=<step>@<progress> holds it in the middle instead: the step's
worker thread (speech recognition, say) stops where it reports the job's progress at or
past <progress>, until the file goes or the job is cancelled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

# A forgotten hold file must not keep a job forever.
MAX_HOLD_SECONDS = 300.0
HOLD_CHECK_SECONDS = 0.05


def _matches(configured: str, step: str) -> bool:
    return configured == step or (configured.endswith("*") and step.startswith(configured[:-1]))


async def at_step_start(step: str) -> None:
    crash_at = os.environ.get("REELDOCS_TEST_CRASH_AT", "")
    if crash_at and _matches(crash_at, step):
        os.kill(os.getpid(), signal.SIGKILL)
    pause_at = os.environ.get("REELDOCS_TEST_PAUSE_AT", "")
    if pause_at:
        name, _, seconds = pause_at.partition(":")
        if _matches(name, step):
            await asyncio.sleep(float(seconds or "5"))
    hold_at = os.environ.get("REELDOCS_TEST_HOLD_AT", "")
    hold_file = os.environ.get("REELDOCS_TEST_HOLD_FILE", "")
    if hold_at and hold_file and _matches(hold_at, step):
        await _wait_while_exists(Path(hold_file))


def holds_within(step: str, progress: float) -> Path | None:
    """The hold file, when a hold inside `step` is set for this `progress` and in force."""
    hold_at = os.environ.get("REELDOCS_TEST_HOLD_AT", "")
    hold_file = os.environ.get("REELDOCS_TEST_HOLD_FILE", "")
    name, at, fraction = hold_at.partition("@")
    if not (at and hold_file and _matches(name, step) and progress >= float(fraction)):
        return None
    gate = Path(hold_file)
    return gate if gate.exists() else None


def hold_thread(gate: Path, stop: threading.Event) -> bool:
    """Block this worker thread while `gate` exists; True when `stop` was set meanwhile."""
    for _ in range(round(MAX_HOLD_SECONDS / HOLD_CHECK_SECONDS)):
        if stop.is_set():
            return True
        if not gate.exists():
            return False
        time.sleep(HOLD_CHECK_SECONDS)
    return stop.is_set()


async def _wait_while_exists(gate: Path) -> None:
    for _ in range(round(MAX_HOLD_SECONDS / HOLD_CHECK_SECONDS)):
        if not await asyncio.to_thread(gate.exists):
            return
        await asyncio.sleep(HOLD_CHECK_SECONDS)
