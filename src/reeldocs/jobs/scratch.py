"""A run's scratch files, `<data dir>/work/<run_id>/`: its extracted sound track, its
screenshots before they are stored, a copy of the video downloaded from S3.

They are a cache of the run's work on this machine, never its record: every checkpoint a
job resumes from (segments, scenes and their screenshots, articles, subtitles) is in the
database and the storage, per run. So the folder goes when its run ends (completed,
failed, cancelled), and with it a private video's sound track. It stays while its job is
handed back to the queue by a worker that stops or lost the database: the next claim on
this machine resumes with the sound track already extracted.

Several workers may share one data directory. The worker working in a folder holds a
shared lock on it (flock) for as long as it does, and the kernel lets go of the lock when
the process ends, however it ends. Removing a folder takes the exclusive lock without
waiting, so a folder is removed only when no living process on this machine works in it:
a SIGKILLed worker's folder can go, a running one's never does. Folders of runs that no
longer have an active job are removed by every worker's sweeper (at start-up, then every
few minutes): that covers a worker that died on a machine where no worker claimed its
run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import shutil
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from reeldocs.jobs.lifecycle import ACTIVE_STATUSES

_logger = logging.getLogger(__name__)

WORK_DIR_NAME = "work"


def scratch_root(data_dir: Path) -> Path:
    return data_dir / WORK_DIR_NAME


def scratch_path(data_dir: Path, run_id: uuid.UUID) -> Path:
    return scratch_root(data_dir) / str(run_id)


class ScratchDir:
    """A run's scratch folder, held (shared lock) until `release`."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # lets go of the lock
            self._fd = None


def _same_folder(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def enter(data_dir: Path, run_id: uuid.UUID) -> ScratchDir:
    """The run's scratch folder (0700), created if need be and held. Blocks only while
    another process removes that folder."""
    scratch_root(data_dir).mkdir(mode=0o700, exist_ok=True)
    path = scratch_path(data_dir, run_id)
    while True:
        path.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_SH)
        # A remover may have taken the folder away between mkdir and the lock.
        if _same_folder(fd, path):
            return ScratchDir(path, fd)
        os.close(fd)


def remove_if_unused(path: Path) -> bool:
    """Remove a scratch folder no living process on this machine works in; False when
    one does (the folder stays)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        if not _same_folder(fd, path):
            return not path.exists()
        shutil.rmtree(path, ignore_errors=True)
        return not path.exists()
    finally:
        os.close(fd)


def _run_folders(data_dir: Path) -> dict[uuid.UUID, Path]:
    folders: dict[uuid.UUID, Path] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(scratch_root(data_dir)):
            try:
                run_id = uuid.UUID(entry.name)
            except ValueError:
                continue  # not a run's folder: not ours to remove
            if entry.is_dir(follow_symlinks=False):
                folders[run_id] = Path(entry.path)
    return folders


async def remove_finished_runs(engine: AsyncEngine, data_dir: Path) -> list[uuid.UUID]:
    """Remove the scratch folders of runs that have no active job any more and that no
    process on this machine works in; the runs whose folders went."""
    folders = await asyncio.to_thread(_run_folders, data_dir)
    if not folders:
        return []
    async with engine.connect() as conn:
        active = set(
            (
                await conn.execute(
                    sa.text(
                        "SELECT DISTINCT run_id FROM processing_jobs "
                        "WHERE run_id = ANY(:runs) AND status IN :active"
                    ).bindparams(sa.bindparam("active", expanding=True)),
                    {"runs": list(folders), "active": list(ACTIVE_STATUSES)},
                )
            ).scalars()
        )
    removed = []
    for run_id, path in folders.items():
        if run_id not in active and await asyncio.to_thread(remove_if_unused, path):
            removed.append(run_id)
    if removed:
        _logger.info(
            "removed the scratch files of %d finished runs from %s",
            len(removed),
            scratch_root(data_dir),
        )
    return removed
