"""Storage for async code: every blocking call runs in a thread, never on the event loop.

A web process serves every request from one event loop, and a worker's loop sends the
heartbeats that keep other workers from starting its job: a storage call that waits on a
slow server must wait in a thread. Storage threads are counted apart from the ones the
rest of the app uses, so requests waiting on a storage server that does not answer never
keep other requests from getting a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from reeldocs.core.errors import StorageUnavailable
from reeldocs.core.storage import ByteChunks, Storage

_logger = logging.getLogger(__name__)

T = TypeVar("T")

# A cancelled download is told to stop and given this long to notice before it is left
# to end on its own in the background.
STOP_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class OpenedRange:
    """A byte range whose object answered: its chunks arrive as they are iterated."""

    size: int
    chunks: AsyncIterator[bytes]


def _next_chunk(chunks: ByteChunks) -> bytes | None:
    return next(chunks, None)


class AsyncStorage:
    def __init__(self, backend: Storage, *, threads: int = 16) -> None:
        self.backend = backend
        self._threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run one blocking storage call in a storage thread."""
        if self._limiter is None:  # made on first use, inside the event loop that uses it
            self._limiter = anyio.CapacityLimiter(self._threads)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=self._limiter)

    async def size(self, key: str) -> int | None:
        return await self.run(self.backend.size, key)

    async def exists(self, key: str) -> bool:
        return await self.run(self.backend.exists, key)

    async def put_file(self, key: str, path: Path) -> None:
        await self.run(self.backend.put_file, key, path)

    async def delete(self, key: str) -> None:
        await self.run(self.backend.delete, key)

    async def delete_prefix(self, prefix: str) -> None:
        await self.run(self.backend.delete_prefix, prefix)

    async def discard_prefix(self, prefix: str) -> None:
        """Delete files whose rows are already gone; left-over files harm no one, so a
        storage that does not answer is logged, not raised."""
        try:
            await self.delete_prefix(prefix)
        except StorageUnavailable as error:
            _logger.warning("files under %s were left in storage: %s", prefix, error.reason)

    async def read_bytes(self, key: str) -> bytes | None:
        """A small object (a screenshot) whole; None when it is missing."""

        def read() -> bytes | None:
            size = self.backend.size(key)
            if size is None:
                return None
            return b"".join(self.backend.read_range(key, 0, size - 1)) if size else b""

        return await self.run(read)

    async def open_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive. The object is opened before this returns, so a
        storage failure raises here, before a response has started."""
        chunks = await self.run(self.backend.open_range, key, start, end)
        return self._iterate(chunks)

    async def open_whole(self, key: str) -> OpenedRange | None:
        """The whole object, opened; None when it is missing."""
        size = await self.size(key)
        if size is None:
            return None
        if size == 0:
            return OpenedRange(0, _no_chunks())
        try:
            return OpenedRange(size, await self.open_range(key, 0, size - 1))
        except FileNotFoundError:
            return None  # removed between the two calls

    async def _iterate(self, chunks: ByteChunks) -> AsyncIterator[bytes]:
        try:
            while (chunk := await self.run(_next_chunk, chunks)) is not None:
                yield chunk
        finally:
            chunks.close()  # closes a socket or a file: it does not wait

    async def fetch(
        self, key: str, into: Path, stop: threading.Event | None = None
    ) -> tuple[Path, bool]:
        """A local file with the object's bytes, and whether it is a copy made in `into`
        (to be removed by the caller) rather than the stored file itself.

        A cancelled caller sets `stop`, which the download checks as bytes arrive.
        """
        local = self.backend.local_path(key)
        if local is not None:
            if not await anyio.to_thread.run_sync(local.is_file):
                raise FileNotFoundError(key)
            return local, False
        folder = await self.run(_scratch_folder, into)
        target = folder / Path(key).name
        cancelled = threading.Event()

        def should_stop() -> bool:
            return cancelled.is_set() or (stop is not None and stop.is_set())

        loop = asyncio.get_running_loop()
        download = loop.run_in_executor(
            None, functools.partial(self.backend.download, key, target, should_stop)
        )
        try:
            await asyncio.shield(download)
        except asyncio.CancelledError:
            cancelled.set()
            with contextlib.suppress(BaseException):
                await asyncio.wait([download], timeout=STOP_GRACE_SECONDS)
            await self.run(functools.partial(shutil.rmtree, folder, ignore_errors=True))
            raise
        except BaseException:
            await self.run(functools.partial(shutil.rmtree, folder, ignore_errors=True))
            raise
        return target, True

    async def remove_copy(self, path: Path) -> None:
        """Remove a copy `fetch` made (its own folder goes with it)."""
        await self.run(functools.partial(shutil.rmtree, path.parent, ignore_errors=True))


def _scratch_folder(into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=into, prefix="download-"))


async def _no_chunks() -> AsyncIterator[bytes]:
    return
    yield  # an async generator that yields nothing
