"""The pixel size of the screenshots a docs page shows, read from their WebP headers.

The database keeps no size, and the page needs one for each `<img>` so that the browser
keeps room for the picture before it arrives. The first 30 bytes of a WebP file hold it;
a screenshot's storage key names its run, and a run's files never change, so a size
once read is kept for the life of the process.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import uuid
from collections import OrderedDict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.errors import StorageUnavailable
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.docs.models import Screenshot

_logger = logging.getLogger(__name__)

WEBP_HEADER_BYTES = 30
KEPT_SIZES = 4096

_known: OrderedDict[str, tuple[int, int]] = OrderedDict()


def webp_size(header: bytes) -> tuple[int, int] | None:
    """(width, height) from the start of a WebP file: lossy, lossless or extended."""
    if len(header) < WEBP_HEADER_BYTES or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return None
    chunk = header[12:16]
    if chunk == b"VP8 " and header[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", header[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and header[20] == 0x2F:
        bits = int.from_bytes(header[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(header[24:27], "little") + 1
        height = int.from_bytes(header[27:30], "little") + 1
        return width, height
    return None


async def _read_size(storage: AsyncStorage, key: str) -> tuple[int, int] | None:
    try:
        chunks = await storage.open_range(key, 0, WEBP_HEADER_BYTES - 1)
        header = b"".join([chunk async for chunk in chunks])
    except (FileNotFoundError, StorageUnavailable) as error:
        # The page still shows the picture, only without room kept for it.
        _logger.warning("the size of screenshot %s could not be read: %s", key, error)
        return None
    return webp_size(header)


async def screenshot_sizes(
    db: AsyncSession,
    storage: AsyncStorage,
    video_id: uuid.UUID,
    run_id: uuid.UUID,
    names: Iterable[str],
) -> dict[str, tuple[int, int]]:
    """name -> (width, height) of the run's screenshots among `names`."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = await db.execute(
        sa.select(Screenshot.name, Screenshot.storage_path).where(
            Screenshot.video_id == video_id,
            Screenshot.run_id == run_id,
            Screenshot.name.in_(wanted),
        )
    )
    keys: dict[str, str] = {name: path for name, path in rows}
    missing = [key for key in keys.values() if key not in _known]
    for key, size in zip(
        missing, await asyncio.gather(*(_read_size(storage, key) for key in missing)), strict=True
    ):
        if size is not None:
            _known[key] = size
            if len(_known) > KEPT_SIZES:
                _known.popitem(last=False)
    return {name: _known[key] for name, key in keys.items() if key in _known}
