"""Request dependencies: one transaction per request, and who is asking."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core import security
from reeldocs.core.db import act_as_user
from reeldocs.core.errors import Forbidden, NotAuthenticated
from reeldocs.core.settings import Settings
from reeldocs.core.storage_async import AsyncStorage

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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


def app_settings(request: Request) -> Settings:
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


async def _user_from_token(session: AsyncSession, token: str) -> Actor | None:
    row = (
        await session.execute(
            sa.text(
                """
                UPDATE api_tokens t SET last_used_at = now()
                FROM users u
                WHERE t.token_hash = :hash AND u.id = t.user_id
                RETURNING u.id, u.email, u.name
                """
            ),
            {"hash": security.token_hash(token)},
        )
    ).first()
    return Actor(row.id, row.email, row.name, "token") if row else None


async def _user_from_session(session: AsyncSession, token: str) -> Actor | None:
    row = (
        await session.execute(
            sa.text(
                """
                SELECT u.id, u.email, u.name FROM user_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = :hash AND s.expires_at > now()
                """
            ),
            {"hash": security.token_hash(token)},
        )
    ).first()
    return Actor(row.id, row.email, row.name, "session", token) if row else None


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
    """Authenticate (as the service role), then drop to the user's rights for the rest."""
    actor: Actor | None = None
    token = bearer_token(request)
    if token is not None:
        actor = await _user_from_token(session, token)
        if actor is None:
            raise NotAuthenticated("This API token is not valid: it may have been revoked.")
    else:
        cookie = request.cookies.get(security.SESSION_COOKIE)
        if cookie:
            actor = await _user_from_session(session, cookie)
            if actor is not None:
                await _check_csrf(request, settings, cookie)
    if actor is not None:
        await act_as_user(session, actor.user_id)
        request.state.actor = actor
    return actor


async def current_actor(actor: Annotated[Actor | None, Depends(optional_actor)]) -> Actor:
    if actor is None:
        raise NotAuthenticated("Log in first, or send an API token as 'Authorization: Bearer …'.")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]

SESSION_LIFETIME = timedelta(days=30)


def session_expiry() -> datetime:
    return datetime.now(UTC) + SESSION_LIFETIME
