"""Fault injection for Reeldocs' own crash and recovery tests.

Two environment variables, read when a step starts, both empty in normal use:
REELDOCS_TEST_CRASH_AT=<step> makes the worker process kill itself (SIGKILL) as
that step starts; REELDOCS_TEST_PAUSE_AT=<step>:<seconds> holds the step so a
test can act while it is visibly running (kill the worker, restart the database).
"""

from __future__ import annotations

import asyncio
import os
import signal


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
