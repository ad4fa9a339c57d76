"""How every Reeldocs process logs: one line per event, naming its machine and process."""

from __future__ import annotations

import asyncio
import logging
import socket


def setup_logging() -> None:
    # Several workers on several machines log to one place: each line says whose it is.
    host = socket.gethostname().replace("%", "%%")
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {host}[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("procrastinate.worker").addFilter(_cancelled_jobs_without_traceback)


def _cancelled_jobs_without_traceback(record: logging.LogRecord) -> bool:
    """The engine logs a job stopped by a cancel with its CancelledError's traceback; a
    cancel is an expected end, told by the line itself ("ended with status: Aborted")."""
    if record.exc_info and record.exc_info[0] is asyncio.CancelledError:
        record.exc_info = None
        record.exc_text = None
    return True
