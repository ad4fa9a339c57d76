"""Looking for files and folders other local users could reach."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# What many systems give a new process: files 0644, folders 0755.
PERMISSIVE_UMASK = 0o022


def open_to_others(top: Path, allowed: dict[Path, int] | None = None) -> list[str]:
    """Every file and folder under `top` (itself included) that a group or other user may
    read, write or traverse, beyond the bits `allowed` names for a path."""
    allowed = allowed or {}
    found = []
    for folder, folders, files in os.walk(top):
        for path in [Path(folder)] if Path(folder) == top else []:
            found += _extra_bits(path, allowed.get(path, 0))
        for name in folders + files:
            path = Path(folder) / name
            found += _extra_bits(path, allowed.get(path, 0))
    return found


def _extra_bits(path: Path, allowed: int) -> list[str]:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return []
    mode = stat.S_IMODE(info.st_mode)
    return [f"{path} is {mode:o}"] if mode & 0o077 & ~allowed else []
