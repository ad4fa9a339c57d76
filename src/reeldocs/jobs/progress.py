"""Where a running job's progress is written, and where a worker learns it must stop."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.db import connection_lost
from reeldocs.jobs import lifecycle
from reeldocs.pipeline import faults
from reeldocs.providers.base import Cancelled

_logger = logging.getLogger(__name__)


class JobStopped(Exception):
    """The job is no longer ours to run: it was cancelled, or another worker has it."""


class JobProgressReporter:
    """Writes step, message and progress; progress only ever moves forward.

    Every write is conditional on the job still being `processing` under this
    worker's lease, so a job that was cancelled, or given to another worker, in the
    meantime is noticed at the very next write.
    """

    MIN_INTERVAL = 0.5  # seconds between two writes from a busy loop

    def __init__(
        self,
        engine: AsyncEngine,
        job_id: uuid.UUID,
        lease: uuid.UUID,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.engine = engine
        self.job_id = job_id
        self.lease = lease
        self.loop = loop
        self.stop_event = threading.Event()
        self.step = ""  # none entered yet in this attempt
        self._last_write = 0.0
        self._unreported = False  # a progress write failed because the database was away
        self._lock = threading.Lock()

    async def update(self, step: str, message: str, progress: float) -> None:
        entering = step != self.step
        self.step = step
        try:
            async with self.engine.begin() as conn:
                ours = await lifecycle.progress(
                    conn, self.job_id, self.lease, step, message, progress
                )
        except Exception as error:
            if entering or not connection_lost(error):
                raise
            # Progress inside a step can wait for the database: the work goes on, and
            # the step's checkpoint (or its next report) finds the database back or not.
            self._last_write = time.monotonic()
            if not self._unreported:
                _logger.warning(
                    "job %s: progress not recorded, the database is away (%s)", self.job_id, error
                )
            self._unreported = True
            return
        self._unreported = False
        self._last_write = time.monotonic()
        if not ours:
            self.stop_event.set()
            raise JobStopped()
        if entering:
            await faults.at_step_start(step)

    def from_thread(self, step: str, message: str, progress: float) -> None:
        """Report from a worker thread (speech recognition, media); raise Cancelled to stop it."""
        if self.stop_event.is_set():
            raise Cancelled()
        gate = faults.holds_within(step, progress)
        with self._lock:
            if gate is None and time.monotonic() - self._last_write < self.MIN_INTERVAL:
                return
            self._last_write = time.monotonic()
        future = asyncio.run_coroutine_threadsafe(self.update(step, message, progress), self.loop)
        try:
            future.result(timeout=30)
        except JobStopped:
            raise Cancelled() from None
        if gate is not None and faults.hold_thread(gate, self.stop_event):
            raise Cancelled()

    def check(self) -> None:
        if self.stop_event.is_set():
            raise Cancelled()
