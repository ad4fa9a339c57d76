"""Where a running job's progress is written, and where a worker learns it must stop."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.pipeline import faults
from reeldocs.providers.base import Cancelled


class JobStopped(Exception):
    """The job is no longer ours to run: it was cancelled or finished elsewhere."""


class JobProgressReporter:
    """Writes step, message and progress; progress only ever moves forward.

    Every write is conditional on the job still being `processing`, so a job that
    was cancelled in the meantime is noticed at the very next write.
    """

    MIN_INTERVAL = 0.5  # seconds between two writes from a busy loop

    def __init__(
        self, engine: AsyncEngine, job_id: uuid.UUID, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.engine = engine
        self.job_id = job_id
        self.loop = loop
        self.stop_event = threading.Event()
        self.step = ""  # none entered yet in this attempt
        self._last_write = 0.0
        self._lock = threading.Lock()

    async def update(self, step: str, message: str, progress: float) -> None:
        entering = step != self.step
        self.step = step
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.text(
                        """
                        UPDATE processing_jobs
                        SET step = :step, step_message = :message,
                            progress = GREATEST(progress, :progress)
                        WHERE id = :id AND status = 'processing' AND NOT cancel_requested
                        RETURNING id
                        """
                    ),
                    {
                        "id": self.job_id,
                        "step": step,
                        "message": message,
                        "progress": round(min(max(progress, 0.0), 1.0), 4),
                    },
                )
            ).first()
        self._last_write = time.monotonic()
        if row is None:
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
