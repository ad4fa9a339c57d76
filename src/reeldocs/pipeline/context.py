"""What every pipeline step receives: the job, the video, where to work, and its tools."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.settings import Settings
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.jobs.progress import JobProgressReporter
from reeldocs.providers.base import Scene
from reeldocs.providers.registry import ProviderSet

T = TypeVar("T")


@dataclass
class VideoInfo:
    id: uuid.UUID
    org_id: uuid.UUID
    project_id: uuid.UUID
    storage_path: str
    mime: str
    duration: float


@dataclass
class RunContext:
    job_id: uuid.UUID
    run_id: uuid.UUID
    video: VideoInfo
    languages: list[str]
    source_language: str | None  # None until the understanding step detects it
    settings: Settings
    engine: AsyncEngine
    storage: AsyncStorage  # blocking code in a thread uses storage.backend
    providers: ProviderSet
    reporter: JobProgressReporter
    work_dir: Path
    video_path: Path
    language_results: dict[str, Any] = field(default_factory=dict)
    scenes: list[Scene] = field(default_factory=list)

    @property
    def spoken(self) -> str:
        return self.source_language or "en"

    @property
    def primary(self) -> str:
        return self.languages[0]

    @property
    def translations(self) -> list[str]:
        return self.languages[1:]

    def key(self, *parts: str) -> str:
        """Storage key of a file that belongs to this run."""
        return "/".join(["videos", str(self.video.id), "runs", str(self.run_id), *parts])

    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run CPU-heavy or blocking work off the event loop (see `run_in_thread`)."""
        return await run_in_thread(self.reporter, fn, *args, **kwargs)


async def run_in_thread(
    reporter: JobProgressReporter, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run CPU-heavy or blocking work of a job off the event loop.

    The worker's loop must stay free to send heartbeats: a blocked loop once made
    the engine start the same job twice. If this task is cancelled (the job was
    aborted), the thread is told to stop and given a moment to do so, so that
    child processes (speech recognition) are gone when the cancellation completes.
    """
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        reporter.stop_event.set()
        # The thread ends by raising Cancelled (or whatever stopped it), which nobody
        # awaits any more: take it, or asyncio logs it as never retrieved.
        future.add_done_callback(_consume_outcome)
        with contextlib.suppress(BaseException):
            await asyncio.wait([future], timeout=3)
        raise


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
