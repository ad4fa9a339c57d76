"""The data directory belongs to Reeldocs alone: no other local user reads or writes in it.

It holds the embedded database, the generated secret key, the database passwords, the
stored videos (with local storage) and each job's scratch files (a private video's
sound track, its screenshots). Every `reeldocs` command sets a umask that makes what it
creates owner-only (folders 0700, files 0600), and closes at start-up whatever an older
version, another tool or a permissive umask left open.

One exception: as root, the embedded PostgreSQL runs as an OS user of its own (see
core.embedded_db), which must pass through the data directory to reach its cluster.
The data directory then gets the traverse bits only (0711): that user, like any other,
may go through it to a path it knows but may not list or read it, and everything below
stays owner-only; the cluster itself is 0700 and owned by the server's user.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

_logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
OTHERS_BITS = 0o077  # group and other users: read, write and traverse
TRAVERSE_BITS = 0o011  # group and other users: traverse a folder, nothing more
# PostgreSQL's cluster: owned by the server's OS user as root, and kept 0700 by
# PostgreSQL itself (it refuses to start otherwise).
DATABASE_CLUSTER = "pgdata"


def use_private_umask() -> None:
    """Whatever this process creates from now on is its owner's alone."""
    os.umask(PRIVATE_UMASK)


def database_user_traverses(embedded_database: bool) -> bool:
    """Whether the data directory must let the embedded server's own OS user through."""
    return embedded_database and os.geteuid() == 0


def grant_traverse(path: Path) -> None:
    """Let other users pass through `path` and every folder above it, nothing more."""
    for folder in (path, *path.parents):
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & TRAVERSE_BITS != TRAVERSE_BITS:
            folder.chmod(mode | TRAVERSE_BITS)


def close_to_others(data_dir: Path, *, traverse: bool) -> int:
    """Take every group and other bit off the data directory's files and folders.

    `traverse` keeps the traverse bits of the data directory itself (see the module's
    docstring). The database cluster is left to PostgreSQL. Symbolic links are neither
    followed nor changed. Returns how many were changed, and logs one line when any was.
    """
    changed = 0
    refused: list[Path] = []

    def close(path: Path, mode: int, allowed: int) -> None:
        nonlocal changed
        extra = mode & OTHERS_BITS & ~allowed
        if not extra:
            return
        try:
            path.chmod(mode & ~extra)
        except FileNotFoundError:
            return  # removed meanwhile (a worker sharing the directory)
        except PermissionError:
            refused.append(path)
            return
        changed += 1

    def walk(folder: Path) -> None:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        for entry in entries:
            if folder == data_dir and entry.name == DATABASE_CLUSTER:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                continue
            close(Path(entry.path), stat.S_IMODE(info.st_mode), 0)
            if stat.S_ISDIR(info.st_mode):
                walk(Path(entry.path))

    close(data_dir, stat.S_IMODE(data_dir.stat().st_mode), TRAVERSE_BITS if traverse else 0)
    walk(data_dir)
    if changed:
        _logger.warning(
            "Closed %d files and folders in %s to other users: they were readable or "
            "writable by group or others, and the data directory is for Reeldocs alone.",
            changed,
            data_dir,
        )
    if refused:
        _logger.warning(
            "Could not close %d files or folders in %s to other users (they belong to "
            "another user), %s among them: change their owner or mode by hand.",
            len(refused),
            data_dir,
            refused[0],
        )
    return changed
