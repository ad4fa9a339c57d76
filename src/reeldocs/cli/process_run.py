"""The steps of `reeldocs process`, whichever way it reaches the jobs.

A run starts a job per file, follows the jobs until each has ended, writes each completed
video's docs as its `<video-slug>/` folder, and on Ctrl-C cancels what still runs. Local
mode (process_local.py) does each step on the database, `--server` mode
(process_server.py) through a server's API; `drive` is the same for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from reeldocs.cli.process_display import Display, Followed
from reeldocs.core.errors import Invalid, ReeldocsError

if TYPE_CHECKING:
    from reeldocs.jobs.schemas import JobOut

EXIT_INTERRUPTED = 130
FINAL_STATUSES = ("completed", "failed", "cancelled", "retried")


class ExportFormatChoice(StrEnum):
    markdown = "markdown"
    mdx = "mdx"


@dataclasses.dataclass(frozen=True)
class Request:
    files: list[Path]
    languages: list[str]
    out_dir: Path
    fmt: ExportFormatChoice
    include_video: bool
    project: str | None


class Run:
    """One command's videos, from the files to the written docs. A mode provides the
    steps below `open`; the order they are taken in is this class's."""

    poll_seconds = 0.5

    def __init__(self, request: Request, display: Display) -> None:
        self.request = request
        self.display = display
        self.interrupted = asyncio.Event()
        self.followed: list[Followed] = []

    # -- what each mode does --------------------------------------------------------------

    async def open(self) -> None:
        """Find the project the videos go into (a ReeldocsError when it cannot be used)."""
        raise NotImplementedError

    def background(self) -> Coroutine[Any, Any, None] | None:
        """What runs beside the following, if anything (local mode's worker)."""
        return None

    async def start_one(self, path: Path, item: Followed) -> None:
        """Hand the file over and start its job; sets the item's video and job."""
        raise NotImplementedError

    async def read_job(self, item: Followed) -> JobOut | None:
        """The item's job now, or None when it has not changed since the last read."""
        raise NotImplementedError

    async def export(self, item: Followed) -> Path:
        """Write the completed video's docs into the out folder; its `<video-slug>/`."""
        raise NotImplementedError

    async def cancel(self, item: Followed) -> str:
        """Cancel the item's job; its status after (a ReeldocsError if it had ended)."""
        raise NotImplementedError

    async def close(self) -> None:
        return None

    # -- the steps, in order --------------------------------------------------------------

    async def start_jobs(self) -> None:
        await self.open()
        for path in self.request.files:
            if self.interrupted.is_set():
                return
            item = Followed(given=str(path), label=path.name or str(path))
            self.followed.append(item)
            try:
                await _check_file(path)
                await self.start_one(path, item)
            except ReeldocsError as error:
                self._refuse(item, error.detail)
            except OSError as error:
                self._refuse(item, f"The file could not be read ({error.strerror or error}).")
            else:
                self.display.started(item)

    def _refuse(self, item: Followed, sentence: str) -> None:
        item.status = "refused"
        item.error = sentence
        item.transferred = None
        self.display.ended(item)

    async def follow(self, helper: asyncio.Task[None] | None) -> None:
        """Read the jobs until every one has ended, or Ctrl-C."""
        while not self.interrupted.is_set():
            if helper is not None and helper.done():
                self._helper_stopped(helper)
                return
            waiting = [item for item in self.followed if item.job_id and not item.ended]
            if not waiting:
                return
            for item in waiting:
                job = await self.read_job(item)
                if item.ended or job is None:
                    continue
                item.status = job.status
                item.progress = job.progress
                item.step = job.step
                item.message = job.step_message or job.step
                item.language_results = job.language_results
                if job.status in FINAL_STATUSES:
                    await self._finish(item, job.error_message)
                else:
                    self.display.changed(item)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.interrupted.wait(), self.poll_seconds)

    def _helper_stopped(self, helper: asyncio.Task[None]) -> None:
        """The worker never stops by itself but on an error: the jobs it leaves are left
        to other workers, and the command says so."""
        failure = None if helper.cancelled() else helper.exception()
        reason = getattr(failure, "message", None) or str(failure or "no reason given")
        for item in self.followed:
            if item.job_id is not None and not item.ended:
                item.error = (
                    f"This command's worker stopped ({reason}); the job stays {item.status} "
                    f"for another worker: `reeldocs jobs show {item.job_id}` follows it."
                )
                item.ended = True
                self.display.ended(item)

    async def _finish(self, item: Followed, error: str | None) -> None:
        if item.status == "completed":
            try:
                item.out = await self.export(item)
            except ReeldocsError as failure:
                item.status = "failed"
                item.error = f"Its docs could not be written: {failure.detail}"
            except OSError as failure:
                item.status = "failed"
                item.error = (
                    f"Its docs could not be written into {self.request.out_dir} "
                    f"({failure.strerror or failure})."
                )
            item.transferred = None
        elif item.status == "retried":
            item.error = "Its job was retried as another job: `reeldocs jobs list` shows it."
        else:
            item.error = error or f"Its job was {item.status}."
        item.ended = True
        self.display.ended(item)

    async def cancel_active(self) -> list[Followed]:
        """Cancel this command's jobs that have not ended."""
        cancelled = []
        for item in self.followed:
            if item.job_id is None or item.ended:
                continue
            try:
                item.status = await self.cancel(item)
            except ReeldocsError:
                continue  # it ended meanwhile, or the server cannot be asked
            item.ended = True
            cancelled.append(item)
        return cancelled


async def _check_file(path: Path) -> None:
    if not await anyio.Path(path).exists():
        raise Invalid("There is no such file: check the path and try again.")
    if not await anyio.Path(path).is_file():
        raise Invalid("This is not a file: give the path of a video file.")


async def drive(run: Run) -> int:
    """Take the run's steps under a display; the command's exit status."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, run.interrupted.set)
    helper: asyncio.Task[None] | None = None
    display = run.display
    try:
        with display:
            starting = asyncio.create_task(run.start_jobs())
            interrupted = asyncio.create_task(run.interrupted.wait())
            await asyncio.wait({starting, interrupted}, return_when=asyncio.FIRST_COMPLETED)
            interrupted.cancel()
            if not starting.done():  # Ctrl-C while a file is stored or sent
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
            else:
                starting.result()  # the project could not be used: its error
            if any(item.job_id for item in run.followed) and not run.interrupted.is_set():
                work = run.background()
                helper = asyncio.create_task(work) if work is not None else None
                await run.follow(helper)
        if run.interrupted.is_set():
            display.note(await _interrupt(run))
            return EXIT_INTERRUPTED
        return display.summary(run.followed)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if helper is not None:
            helper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await helper
        await run.close()


async def _interrupt(run: Run) -> str:
    """Cancel what still runs after Ctrl-C; the sentence that says what was stopped."""
    unsent = [item.label for item in run.followed if item.job_id is None and not item.ended]
    cancelled = [item.label for item in await run.cancel_active()]
    said = []
    if cancelled:
        said.append(f"cancelled the processing of {', '.join(cancelled)}")
    if unsent:
        said.append(f"stopped adding {', '.join(unsent)}, which was not kept")
    if not said:
        return "Interrupted: no job was running, so none was cancelled."
    return f"Interrupted: {' and '.join(said)}."
