"""Request dependencies: one transaction per request, and who is asking."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from reeldocs.core import security
from reeldocs.core.db import APP_ROLE, DriverConnection, raw_driver_connection
from reeldocs.core.errors import Forbidden, NotAuthenticated
from reeldocs.core.settings import Settings
from reeldocs.core.storage_async import AsyncStorage

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
NOT_LOGGED_IN = "Log in first, or send an API token as 'Authorization: Bearer …'."


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(request.app.state.engine, expire_on_commit=False) as session:
        await session.begin()
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function" commits when the endpoint returns, before the answer is sent: with
# the default scope the commit ran after the response, so a client's next request
# (a fresh session cookie, a project just created) could miss what it was told exists.
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


# async: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per request.
async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]


def app_storage(request: Request) -> AsyncStorage:
    storage: AsyncStorage = request.app.state.storage
    return storage


# Object storage for async routes: its calls run in threads and give up within seconds.
AppStorage = Annotated[AsyncStorage, Depends(app_storage)]


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    email: str
    name: str
    via: str  # "session" or "token"
    session_token: str | None = None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


# How often a token's last use is written down: often enough to tell a token in use from a
# forgotten one, rarely enough that a script polling every second writes nothing.
TOKEN_USE_RESOLUTION = "1 minute"

# The lookup and the switch to the user's rights are one statement (one round trip): the
# row is read as the service role, then `set_config('role', …)` (what SET LOCAL ROLE does)
# and `app.user_id` take effect for the rest of the transaction. They are evaluated only
# for the one row found, so a token or cookie that matches nothing switches nothing.
_ACT_AS_FOUND_USER = (
    f"set_config('role', '{APP_ROLE}', true), set_config('app.user_id', u.id::text, true)"
)

_TOKEN_LOOKUP = f"""
    SELECT u.id, u.email, u.name, t.id,
           t.last_used_at IS NULL OR t.last_used_at < now() - interval '{TOKEN_USE_RESOLUTION}',
           {_ACT_AS_FOUND_USER}
    FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = %s
"""

_SESSION_LOOKUP = f"""
    SELECT u.id, u.email, u.name, {_ACT_AS_FOUND_USER}
    FROM user_sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = %s AND s.expires_at > now()
"""

# Runs as the user: the api_tokens policy lets them update their own tokens. The
# condition is repeated so that two requests at once write once.
_TOKEN_USED = f"""
    UPDATE api_tokens SET last_used_at = now()
    WHERE id = %s
      AND (last_used_at IS NULL OR last_used_at < now() - interval '{TOKEN_USE_RESOLUTION}')
"""


async def _fetch_one(conn: DriverConnection, query: str, value: object) -> tuple[Any, ...] | None:
    cursor = await conn.execute(query, (value,))
    return await cursor.fetchone()


async def authenticate(conn: DriverConnection, request: Request) -> Actor | None:
    """Who is asking (a Bearer token, else the session cookie), switching the connection's
    transaction to their rights; None when nobody is, 401 for a token that is not valid.

    It runs on the driver's connection, under whatever transaction it is in: SQLAlchemy
    adds some 100 µs of CPU to each statement, and every request pays for this one.
    """
    token = bearer_token(request)
    if token is not None:
        row = await _fetch_one(conn, _TOKEN_LOOKUP, security.token_hash(token))
        if row is None:
            raise NotAuthenticated("This API token is not valid: it may have been revoked.")
        if row[4]:  # its last use is more than a minute old
            await conn.execute(_TOKEN_USED, (row[3],))
        actor = Actor(row[0], row[1], row[2], "token")
        request.state.actor = actor
        return actor
    return await session_actor(conn, request)


async def session_actor(conn: DriverConnection, request: Request) -> Actor | None:
    """The user of the request's session cookie, switching the connection's transaction to
    their rights; None when there is no cookie or it matches no live session."""
    cookie = request.cookies.get(security.SESSION_COOKIE)
    if not cookie:
        return None
    row = await _fetch_one(conn, _SESSION_LOOKUP, security.token_hash(cookie))
    if row is None:
        return None
    actor = Actor(row[0], row[1], row[2], "session", cookie)
    request.state.actor = actor
    return actor


async def _check_csrf(request: Request, settings: Settings, session_token: str) -> None:
    if request.method in SAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return  # a cross-site form cannot send JSON without a CORS preflight
    candidate = request.headers.get(security.CSRF_HEADER)
    if candidate is None and content_type == "application/x-www-form-urlencoded":
        form = await request.form()
        value = form.get(security.CSRF_FIELD)
        candidate = value if isinstance(value, str) else None
    if not security.csrf_valid(settings.secret_key, session_token, candidate):
        raise Forbidden(
            "This request is missing its security token. Reload the page and try again."
        )


async def optional_actor(
    request: Request, session: DbSession, settings: AppSettings
) -> Actor | None:
    """Authenticate and drop to the user's rights for the rest of the request's transaction;
    then, for a cookie, check the CSRF token of a state-changing request."""
    if bearer_token(request) is None and not request.cookies.get(security.SESSION_COOKIE):
        return None  # nothing to look up: no need for a connection
    actor = await authenticate(await raw_driver_connection(session), request)
    if actor is not None and actor.session_token is not None:
        await _check_csrf(request, settings, actor.session_token)
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise NotAuthenticated(NOT_LOGGED_IN)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]


@dataclass(frozen=True)
class UserTransaction:
    conn: DriverConnection  # in a transaction with the actor's rights
    actor: Actor


@asynccontextmanager
async def user_transaction(request: Request) -> AsyncIterator[UserTransaction]:
    """A read-only request's transaction on a bare driver connection, as the requesting
    user (401 when nobody is): for the reads every open tab repeats, such as job polls,
    without the cost of an ORM session and its dependencies."""
    if request.method not in SAFE_METHODS:
        raise RuntimeError("user_transaction serves reads only: writes need the CSRF check")
    engine: AsyncEngine = request.app.state.engine
    connection, conn, actor = await _begin_as_user(engine, request)
    try:
        yield UserTransaction(conn, actor)
    except BaseException:
        with contextlib.suppress(psycopg.Error):  # a lost connection must not hide why
            await conn.rollback()
        raise
    else:
        await conn.commit()
    finally:
        await connection.close()


async def _begin_as_user(
    engine: AsyncEngine, request: Request
) -> tuple[AsyncConnection, DriverConnection, Actor]:
    """A pooled connection in a transaction as the requesting user. A connection the
    server dropped since the pool last checked is replaced once: nothing was done on it."""
    for attempt in (1, 2):
        connection = await engine.connect()
        conn = await raw_driver_connection(connection)
        try:
            actor = await authenticate(conn, request)
            if actor is None:
                raise NotAuthenticated(NOT_LOGGED_IN)
            return connection, conn, actor
        except psycopg.OperationalError:
            if not conn.broken or attempt == 2:
                await _discard(connection, conn)
                raise
            await connection.invalidate()
            await connection.close()
        except BaseException:
            await _discard(connection, conn)
            raise
    raise AssertionError("unreachable")


async def _discard(connection: AsyncConnection, conn: DriverConnection) -> None:
    with contextlib.suppress(psycopg.Error):
        await conn.rollback()
    await connection.close()


SESSION_LIFETIME = timedelta(days=30)


def session_expiry() -> datetime:
    return datetime.now(UTC) + SESSION_LIFETIME
