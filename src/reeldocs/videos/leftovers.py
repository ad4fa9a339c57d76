"""What an upload leaves when its web process is killed halfway (SIGKILL, out of memory,
power lost), removed once it is old enough that no upload can still be writing it.

An upload streams into storage under its new video's folder (`videos/<id>/`) and records
the video's row only once the file is complete and readable, so a killed upload leaves:
an unfinished write there (a local `.partial-` file, an S3 multipart upload), or a
complete file whose row was never recorded, and with S3 storage a scratch copy in
`<data dir>/uploads/`. A folder of `videos/` whose video has no row is also what a
deletion leaves when the storage did not answer. A worker killed while storing a
screenshot leaves an unfinished write in its video's folder too.

Workers' sweepers remove them (at start-up, then every few minutes), and `reeldocs
serve` removes its own scratch copies when it starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.core.storage_async import AsyncStorage
from reeldocs.videos.service import SCRATCH_DIR_NAME, video_prefix
from reeldocs.videos.upload import SCRATCH_COPY_PREFIX

_logger = logging.getLogger(__name__)

VIDEOS_PREFIX = "videos"
# An upload writes its file at least once per mebibyte received: a day without a write
# is no upload in progress, however slow its client.
ABANDONED_AFTER_SECONDS = 24 * 3600


def remove_scratch_copies(data_dir: Path, before: float) -> int:
    """Remove upload scratch copies in `data_dir` last written before `before`."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(data_dir / SCRATCH_DIR_NAME):
            if not entry.name.startswith(SCRATCH_COPY_PREFIX):
                continue
            with contextlib.suppress(FileNotFoundError):
                if entry.stat(follow_symlinks=False).st_mtime < before:
                    os.unlink(entry.path)
                    removed += 1
    return removed


async def _recorded(engine: AsyncEngine, video_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT id FROM videos WHERE id = ANY(:ids)"), {"ids": video_ids}
        )
        return set(rows.scalars())


async def remove_abandoned_uploads(
    engine: AsyncEngine,
    storage: AsyncStorage,
    data_dir: Path,
    *,
    older_than: float = ABANDONED_AFTER_SECONDS,
) -> int:
    """Remove what killed uploads left, untouched for `older_than` seconds; how many
    things (files, unfinished writes, folders) went."""
    before = time.time() - older_than
    removed = await storage.run(remove_scratch_copies, data_dir, before)
    removed += await storage.run(storage.backend.remove_unfinished, VIDEOS_PREFIX, before)
    names = await storage.run(storage.backend.folders, VIDEOS_PREFIX)
    folders: dict[uuid.UUID, str] = {}
    for name in names:
        with contextlib.suppress(ValueError):
            folders[uuid.UUID(name)] = name
    recorded = await _recorded(engine, list(folders)) if folders else set()
    for video_id in folders.keys() - recorded:
        prefix = video_prefix(video_id)
        changed = await storage.run(storage.backend.last_change, prefix)
        # None: an empty folder, or one removed meanwhile.
        if changed is None or changed < before:
            await storage.delete_prefix(prefix)
            removed += 1
    if removed:
        _logger.info("removed %d files and folders that interrupted uploads left", removed)
    return removed
