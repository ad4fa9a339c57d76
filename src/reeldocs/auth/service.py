"""Accounts, sessions and API tokens.

Sign-up and log-in run before anyone is known, as the service role (like a
separate auth service would); token management runs as the user, under the
database's policies.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.concurrency import run_in_threadpool

from reeldocs.auth.models import ApiToken, User
from reeldocs.auth.schemas import MIN_PASSWORD_LENGTH
from reeldocs.core import security
from reeldocs.core.db import as_service, insert_unique, unused_slug
from reeldocs.core.deps import Actor, session_expiry
from reeldocs.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from reeldocs.core.text import (
    EMAIL_RE,
    INVISIBLE_IN_EMAIL,
    has_invisible_characters,
    normalise_email,
    printable,
    slugify,
)
from reeldocs.orgs.models import Member, Organization

# Failed log-ins are counted over this window, three ways. Per client address and
# account: someone guessing one person's password from one place is refused. Per client
# address: someone trying many accounts from one place is refused. Per account, from
# anywhere: failures are answered more and more slowly, but the account is never locked,
# so the owner logging in from their own address still gets in whatever others try.
LOGIN_FAILURE_WINDOW_MINUTES = 15
FAILURES_PER_ADDRESS_AND_ACCOUNT = 10
# (per address alone: Settings.login_failures_per_address)
SLOW_DOWN_AFTER_FAILURES = 5  # of one account, from anywhere
SLOW_DOWN_STEP_SECONDS = 0.25  # added per failure past that, up to the cap
SLOW_DOWN_CAP_SECONDS = 2.0
# Sign-ups from one client address are counted over this window (the limit is
# Settings.signups_per_hour).
SIGNUP_WINDOW_MINUTES = 60


@dataclass(frozen=True)
class NewSession:
    user_id: uuid.UUID
    token: str


def _check_credentials_shape(email: str, password: str) -> str:
    email = normalise_email(email)
    if has_invisible_characters(email):
        raise Invalid(INVISIBLE_IN_EMAIL)
    if not EMAIL_RE.match(email):
        raise Invalid("Enter a valid e-mail address, such as ada@example.com.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    return email


def personal_team_slug(name: str | None) -> str:
    """A new personal team's slug, which shows in its docs sites' addresses: from the name
    the person gave at sign-up, else random, never from their e-mail address. Owners can
    choose another one (PATCH /api/orgs/{org_id})."""
    from_name = slugify(printable(name or ""), fallback="")
    return from_name or f"team-{secrets.token_hex(3)}"


async def create_user(
    session: AsyncSession, email: str, password: str, name: str | None = None
) -> tuple[User, Organization]:
    """A new user with a personal organisation they own. Runs as the service role."""
    email = _check_credentials_shape(email, password)
    taken = Conflict("An account with this e-mail address already exists: log in instead.")
    if (await session.execute(sa.select(User.id).where(User.email == email))).first():
        raise taken
    password_hash = await run_in_threadpool(security.hash_password, password)
    display = printable(name or "") or email.split("@")[0]
    user = User(email=email, name=display, password_hash=password_hash)
    try:
        session.add(user)
        await session.flush()
    except IntegrityError:
        # Another sign-up with this address committed while the password was hashing.
        raise taken from None

    async def build() -> Organization:
        return Organization(
            name=f"{display}'s workspace",
            slug=await unused_slug(session, Organization.slug, personal_team_slug(name)),
            personal=True,
        )

    org = await insert_unique(session, build)
    session.add(Member(org_id=org.id, user_id=user.id, role="owner"))
    await session.flush()
    return user, org


async def start_session(session: AsyncSession, user_id: uuid.UUID) -> NewSession:
    token = security.new_token()
    await session.execute(
        sa.text("INSERT INTO user_sessions (token_hash, user_id, expires_at) VALUES (:h, :u, :e)"),
        {"h": security.token_hash(token), "u": user_id, "e": session_expiry()},
    )
    return NewSession(user_id, token)


async def end_session(session: AsyncSession, token: str) -> None:
    # Sessions are the auth layer's own table, out of the user role's reach.
    async with as_service(session):
        await session.execute(
            sa.text("DELETE FROM user_sessions WHERE token_hash = :h"),
            {"h": security.token_hash(token)},
        )


async def _record_attempt(engine: AsyncEngine, kind: str, email: str, client: str) -> None:
    # Its own transaction: the request's is rolled back when the log-in is refused.
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO login_failures (kind, email, client) VALUES (:k, :e, :c)"),
            {"k": kind, "e": email, "c": client},
        )
        await conn.execute(
            sa.text("DELETE FROM login_failures WHERE at < now() - interval '1 day'")
        )


async def _recent_failures(session: AsyncSession, email: str, client: str) -> tuple[int, int, int]:
    """Failed log-ins in the window: of this account from this address, from this address,
    and of this account from anywhere."""
    row = (
        await session.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE email = :e AND client = :c), "
                "count(*) FILTER (WHERE client = :c), count(*) FILTER (WHERE email = :e) "
                "FROM login_failures WHERE kind = 'login' AND (email = :e OR client = :c) "
                f"AND at > now() - interval '{LOGIN_FAILURE_WINDOW_MINUTES} minutes'"
            ),
            {"e": email, "c": client},
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def log_in(
    session: AsyncSession,
    engine: AsyncEngine,
    email: str,
    password: str,
    client: str,
    *,
    failures_per_address: int = 30,
) -> NewSession:
    email = normalise_email(email)
    pair, address, account = await _recent_failures(session, email, client)
    if pair >= FAILURES_PER_ADDRESS_AND_ACCOUNT or 0 < failures_per_address <= address:
        raise TooManyRequests(
            "Too many failed log-ins from your network. Wait "
            f"{LOGIN_FAILURE_WINDOW_MINUTES} minutes and try again, or reset your password "
            "with the person who runs this Reeldocs server."
        )
    row = (
        await session.execute(sa.select(User.id, User.password_hash).where(User.email == email))
    ).first()
    stored = row.password_hash if row else security.DUMMY_PASSWORD_HASH
    ok = await run_in_threadpool(security.verify_password, stored, password)
    if not row or not ok:
        await _record_attempt(engine, "login", email, client)
        # Guessing one account from many addresses gets slower and slower answers.
        excess = account + 1 - SLOW_DOWN_AFTER_FAILURES
        if excess > 0:
            await asyncio.sleep(min(excess * SLOW_DOWN_STEP_SECONDS, SLOW_DOWN_CAP_SECONDS))
        raise NotAuthenticated("That e-mail address and password do not match an account.")
    return await start_session(session, row.id)


async def check_signup_rate(
    session: AsyncSession, engine: AsyncEngine, client: str, *, per_hour: int
) -> None:
    """At most `per_hour` sign-ups an hour from one client address (0: no limit); counted
    here, as the attempt starts (a refused sign-up counts too)."""
    if per_hour <= 0:
        return
    made = (
        await session.execute(
            sa.text(
                "SELECT count(*) FROM login_failures WHERE kind = 'signup' AND client = :c "
                f"AND at > now() - interval '{SIGNUP_WINDOW_MINUTES} minutes'"
            ),
            {"c": client},
        )
    ).scalar_one()
    if made >= per_hour:
        raise TooManyRequests(
            "Too many accounts were made from your network in the last hour. Try again later."
        )
    await _record_attempt(engine, "signup", "", client)


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")


async def _set_password(
    session: AsyncSession, user_id: uuid.UUID, password: str, keep_session: str | None
) -> None:
    """Store a new password hash and end the user's sessions but `keep_session`."""
    password_hash = await run_in_threadpool(security.hash_password, password)
    # Password hashes and sessions are the auth layer's own, out of the user role's reach.
    async with as_service(session):
        await session.execute(
            sa.update(User).where(User.id == user_id).values(password_hash=password_hash)
        )
        await session.execute(
            sa.text(
                "DELETE FROM user_sessions WHERE user_id = :u AND token_hash IS DISTINCT FROM :keep"
            ),
            {"u": user_id, "keep": security.token_hash(keep_session) if keep_session else None},
        )


async def change_password(
    session: AsyncSession, actor: Actor, *, current_password: str, new_password: str
) -> None:
    """The user's new password, once they proved they know the current one; every other
    session of theirs ends (a stolen session must not outlive the change)."""
    _check_new_password(new_password)
    async with as_service(session):
        stored = (
            await session.execute(sa.select(User.password_hash).where(User.id == actor.user_id))
        ).scalar_one()
    if not await run_in_threadpool(security.verify_password, stored, current_password):
        raise Forbidden("The current password is not right, so the password was not changed.")
    await _set_password(session, actor.user_id, new_password, actor.session_token)


async def set_password_for_email(session: AsyncSession, email: str, password: str) -> None:
    """The CLI's way in (an operator resetting a password): runs as the service role."""
    _check_new_password(password)
    user_id = (
        await session.execute(sa.select(User.id).where(User.email == normalise_email(email)))
    ).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"There is no user with the e-mail address {email}.")
    await _set_password(session, user_id, password, None)


async def create_token(session: AsyncSession, actor: Actor, name: str) -> tuple[ApiToken, str]:
    name = printable(name)
    if not name:
        raise Invalid("Give the token a name, so you can tell it apart from your other tokens.")
    token = security.new_token(security.API_TOKEN_PREFIX)
    row = ApiToken(user_id=actor.user_id, name=name, token_hash=security.token_hash(token))
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row, token


async def create_token_for_email(session: AsyncSession, email: str, name: str) -> str:
    """The CLI's way in: runs as the service role."""
    user = (
        await session.execute(sa.select(User).where(User.email == normalise_email(email)))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"There is no user with the e-mail address {email}.")
    token = security.new_token(security.API_TOKEN_PREFIX)
    session.add(
        ApiToken(
            user_id=user.id, name=printable(name) or "cli", token_hash=security.token_hash(token)
        )
    )
    await session.flush()
    return token


async def list_tokens(session: AsyncSession, actor: Actor) -> list[ApiToken]:
    # The policy limits rows to the caller's own; the filter says so for readers too.
    result = await session.execute(
        sa.select(ApiToken)
        .where(ApiToken.user_id == actor.user_id)
        .order_by(ApiToken.created_at.desc())
    )
    return list(result.scalars())


async def revoke_token(session: AsyncSession, actor: Actor, token_id: uuid.UUID) -> None:
    result = await session.execute(
        sa.delete(ApiToken).where(ApiToken.id == token_id).returning(ApiToken.id)
    )
    if result.first() is None:
        raise NotFound("This API token does not exist, or it was already revoked.")


async def list_tokens_for_email(session: AsyncSession, email: str) -> list[ApiToken]:
    """The CLI's way in (an operator looking at someone's tokens): runs as the service role."""
    user_id = (
        await session.execute(sa.select(User.id).where(User.email == normalise_email(email)))
    ).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"There is no user with the e-mail address {email}.")
    result = await session.execute(
        sa.select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    )
    return list(result.scalars())


async def revoke_token_by_id(session: AsyncSession, token_id: uuid.UUID) -> tuple[str, str]:
    """The CLI's way in: runs as the service role. The revoked token's name and its
    owner's e-mail address, for the operator to check they revoked the one they meant."""
    row = (
        await session.execute(
            sa.delete(ApiToken)
            .where(ApiToken.id == token_id)
            .returning(ApiToken.name, ApiToken.user_id)
        )
    ).first()
    if row is None:
        raise NotFound(
            f"There is no API token with the id {token_id}: it may have been revoked "
            "already. `reeldocs tokens list --email E` shows a user's tokens."
        )
    email = (await session.execute(sa.select(User.email).where(User.id == row[1]))).scalar_one()
    return row[0], email


def require_signup_open(allow_signup: bool) -> None:
    if not allow_signup:
        raise Forbidden(
            "Sign-up is closed on this Reeldocs server. Ask an owner to add you to their team."
        )
