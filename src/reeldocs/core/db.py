"""Database plumbing: URLs, the engine, migrations, and the roles.

Web requests and background work share one login role (the tables' owner, so not
subject to row-level security: the "service role"). A web request's transaction
switches to `reeldocs_app` with `SET LOCAL ROLE` once it knows who is asking, and
sets `app.user_id` for that transaction only; from then on PostgreSQL's policies
decide what the request may see and change. The docs site's anonymous readers run
as `reeldocs_public`, whose policies show only what is published.
"""

from __future__ import annotations

import logging
import secrets
import select
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from reeldocs.core.settings import Settings

_logger = logging.getLogger(__name__)

APP_ROLE = "reeldocs_app"
PUBLIC_ROLE = "reeldocs_public"
MIGRATION_LOCK_ID = 7_301_2026


class Base(DeclarativeBase):
    pass


RowT = TypeVar("RowT", bound=Base)


@dataclass(frozen=True)
class DatabaseUrls:
    sqlalchemy: str  # postgresql+psycopg://…
    libpq: str  # postgresql://… for psycopg and Procrastinate


def _normalise(url: str) -> DatabaseUrls:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            return DatabaseUrls(f"postgresql+psycopg://{rest}", f"postgresql://{rest}")
    raise ValueError(
        "REELDOCS_DATABASE_URL must be a PostgreSQL URL such as "
        "postgresql://user:password@host:5432/reeldocs."
    )


def database_urls(settings: Settings) -> DatabaseUrls:
    """The configured database, or the embedded server in the data directory (started here)."""
    if settings.database_url:
        return _normalise(settings.database_url)
    from reeldocs.core import embedded_db

    sqlalchemy_url, libpq_url = embedded_db.start(settings.data_dir)
    return DatabaseUrls(sqlalchemy_url, libpq_url)


# libpq settings for TCP connections (a unix socket ignores them). Without them a
# connection whose server vanished without closing it (a half-open connection: a
# failed-over host, a dropped NAT entry) waits forever, and a worker waiting on one
# stops fetching jobs: keepalives find an idle one dead within ~25 s, tcp_user_timeout
# one with unacknowledged data within 30 s, and connect_timeout bounds a connect.
TCP_SETTINGS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
    "connect_timeout": 10,
}


def create_engine(
    urls: DatabaseUrls,
    *,
    pool_size: int = 10,
    max_overflow: int | None = None,
    cheap_liveness: bool = False,
) -> AsyncEngine:
    """An engine whose pooled connections that died with a database restart reconnect.

    By default each checkout pings the server first: a round trip, some 100 µs of CPU.
    With `cheap_liveness` a connection is pinged only when its socket has something to
    read (a server that restarted or closed it says so on the socket, which an idle
    connection otherwise never hears from) or when it sat unused for a second; a busy
    web process reuses its connections within milliseconds and asks the kernel instead.
    """
    engine = create_async_engine(
        urls.sqlalchemy,
        pool_pre_ping=not cheap_liveness,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        connect_args=dict(TCP_SETTINGS),
    )
    if cheap_liveness:
        _ping_when_in_doubt(engine)
    return engine


IDLE_BEFORE_PING_SECONDS = 1.0


def _in_doubt(dbapi_connection: Any, record: Any) -> bool:
    returned = record.info.get("returned_at")
    if returned is None or time.monotonic() - returned >= IDLE_BEFORE_PING_SECONDS:
        return True
    try:
        fd = dbapi_connection.driver_connection.pgconn.socket
        readable, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError, psycopg.Error):  # no socket: closed already
        return True
    return bool(readable)


def _ping_when_in_doubt(engine: AsyncEngine) -> None:
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @sa.event.listens_for(pool, "checkin")
    def note_return(dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(pool, "checkout")
    def ping_if_in_doubt(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if not _in_doubt(dbapi_connection, record):
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception:  # noqa: BLE001 - any failure means the connection is gone
            alive = False
        if not alive:
            # The pool closes this one and checks out another.
            raise DisconnectionError("the database connection was closed")


# SQLSTATEs that mean the connection is gone or cannot be had right now: class 08
# (connection exception), and the server shutting down, crashed or still starting.
# Other errors of psycopg's OperationalError family (a cancelled query, a lock not
# available, too many connections) are the statement's own failure, not a lost server.
_CONNECTION_GONE_STATES = ("57P01", "57P02", "57P03")
_DRIVER_MODULES = ("psycopg", "psycopg_pool", "sqlalchemy")


def connection_lost(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database connection was lost.

    Such an error says nothing about the work that was going on: the same statement
    succeeds once the server is back. Any other database error is a real failure.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_lost_connection(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_lost_connection(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate
        # No SQLSTATE: libpq's own error (refused, closed, reset, pool timeout).
        return state is None or state.startswith("08") or state in _CONNECTION_GONE_STATES
    if isinstance(error, OSError):
        # A socket error counts only when the database driver raised it: an OSError of
        # storage or of a media file is a failure of the job.
        return _raised_in_driver(error.__traceback__)
    return False


def _raised_in_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in _DRIVER_MODULES:
            return True
        traceback = traceback.tb_next
    return False


def migrations_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True)
class SchemaChange:
    """The schema's revision before and after a migration (None: no schema yet)."""

    before: str | None
    after: str | None


def _schema_revision(conn: sa.Connection) -> str | None:
    if conn.execute(sa.text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    return conn.execute(sa.text("SELECT max(version_num) FROM alembic_version")).scalar()


def migrate(urls: DatabaseUrls) -> SchemaChange:
    """Bring the schema to head. Safe to call from several processes at once."""
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(urls.sqlalchemy, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            conn.commit()
            try:
                before = _schema_revision(conn)
                conn.commit()  # alembic runs the upgrade in a transaction of its own
                config = Config()
                config.set_main_option("script_location", str(migrations_dir()))
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
                return SchemaChange(before, _schema_revision(conn))
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                conn.commit()
    finally:
        engine.dispose()


async def unused_slug(
    session: AsyncSession,
    slug: InstrumentedAttribute[str],
    base: str,
    scope: tuple[InstrumentedAttribute[uuid.UUID], uuid.UUID] | None = None,
) -> str:
    """`base`, or `base` with a short random suffix, that no row has in its `slug` column,
    among the rows of `scope` (a team's projects, a project's videos) when given."""
    taken = sa.select(slug)
    if scope is not None:
        column, value = scope
        taken = taken.where(column == value)
    candidate = base
    while (await session.execute(taken.where(slug == candidate))).first():
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate


async def insert_unique(
    session: AsyncSession, build: Callable[[], Awaitable[RowT]], attempts: int = 5
) -> RowT:
    """Insert `build()`'s row in a savepoint, building again on a unique-key clash.

    For rows with a slug picked by looking first: a concurrent request (a double
    click, two sign-ups) can take the slug between the look and the insert.
    """
    for attempt in range(attempts):
        row = await build()
        try:
            async with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def act_as_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """From here to the end of the transaction, the database applies the user's rights."""
    await session.execute(sa.text(f"SET LOCAL ROLE {APP_ROLE}"))
    await session.execute(
        sa.text("SELECT set_config('app.user_id', :uid, true)"), {"uid": str(user_id)}
    )


async def act_as_public(session: AsyncSession) -> None:
    """From here to the end of the transaction, the database shows only what is published
    (anyone's view of the docs sites), whoever was asking before."""
    await session.execute(sa.text(f"SET LOCAL ROLE {PUBLIC_ROLE}"))
    await session.execute(sa.text("SELECT set_config('app.user_id', '', true)"))


@asynccontextmanager
async def as_service(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Step out of the user's role for work that belongs to the system (the job queue).

    The caller has already been authorised by the policies; this is the seed's
    "service role client", scoped to a few statements inside the same transaction.
    """
    role = (await session.execute(sa.text("SELECT current_user"))).scalar_one()
    user = (
        await session.execute(sa.text("SELECT current_setting('app.user_id', true)"))
    ).scalar_one()
    await session.execute(sa.text("RESET ROLE"))
    try:
        yield session
    finally:
        if role in (APP_ROLE, PUBLIC_ROLE):
            await session.execute(sa.text(f"SET LOCAL ROLE {role}"))
            await session.execute(
                sa.text("SELECT set_config('app.user_id', :uid, true)"), {"uid": user or ""}
            )


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        _logger.warning("database did not answer", exc_info=True)
        return False


DriverConnection = psycopg.AsyncConnection[Any]


async def raw_driver_connection(session: AsyncSession | AsyncConnection) -> DriverConnection:
    """The psycopg connection under the session, in its transaction: for libraries that take
    one (the queue), and for statements every request runs, where SQLAlchemy's own cost
    would show."""
    conn = await session.connection() if isinstance(session, AsyncSession) else session
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None, "a connection checked out of the pool is open"
    return cast(DriverConnection, driver)
