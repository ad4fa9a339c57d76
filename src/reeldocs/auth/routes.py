from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from reeldocs.auth import service
from reeldocs.auth.schemas import (
    LoginIn,
    LoginOut,
    PasswordChangeIn,
    SessionOut,
    SignupIn,
    SignupOut,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from reeldocs.core import security
from reeldocs.core.deps import (
    SESSION_LIFETIME,
    AppSettings,
    CurrentActor,
    DbSession,
    OptionalActor,
)
from reeldocs.core.openapi import errors

router = APIRouter(prefix="/api", tags=["auth"])


def request_is_https(request: Request) -> bool:
    # A trusted proxy's X-Forwarded-Proto has already set the scheme (see create_app).
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        security.SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request_is_https(request),
        path="/",
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.post(
    "/auth/signup", status_code=201, response_model=SignupOut, responses=errors(403, 409, 429)
)
async def signup(
    body: SignupIn, request: Request, response: Response, db: DbSession, settings: AppSettings
) -> SignupOut:
    service.require_signup_open(settings.allow_signup)
    await service.check_signup_rate(
        db, request.app.state.engine, client_address(request), per_hour=settings.signups_per_hour
    )
    user, org = await service.create_user(db, body.email, body.password, body.name)
    new = await service.start_session(db, user.id)
    set_session_cookie(request, response, new.token)
    return SignupOut(user_id=user.id, org_id=org.id)


@router.post("/auth/login", response_model=LoginOut, responses=errors(401, 429))
async def login(
    body: LoginIn, request: Request, response: Response, db: DbSession, settings: AppSettings
) -> LoginOut:
    new = await service.log_in(
        db,
        request.app.state.engine,
        body.email,
        body.password,
        client_address(request),
        failures_per_address=settings.login_failures_per_address,
    )
    set_session_cookie(request, response, new.token)
    return LoginOut(user_id=new.user_id)


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, actor: OptionalActor, db: DbSession) -> Response:
    # Resolving the actor applies the CSRF rule, so another site cannot log the user out.
    if actor is not None and actor.session_token is not None:
        await service.end_session(db, actor.session_token)
    response = Response(status_code=204)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


@router.post("/auth/password", status_code=204)
async def change_password(body: PasswordChangeIn, actor: CurrentActor, db: DbSession) -> Response:
    """A new password, given the current one; every other session of the user ends."""
    await service.change_password(
        db, actor, current_password=body.current_password, new_password=body.new_password
    )
    return Response(status_code=204)


@router.get("/auth/session", response_model=SessionOut)
async def current_session(
    actor: CurrentActor, settings: AppSettings, response: Response
) -> SessionOut:
    """Who is logged in, and the CSRF token that goes with a cookie session."""
    response.headers["Cache-Control"] = "no-store"
    csrf = (
        security.csrf_token(settings.secret_key, actor.session_token)
        if actor.session_token is not None
        else None
    )
    return SessionOut(user_id=actor.user_id, email=actor.email, name=actor.name, csrf_token=csrf)


@router.post("/tokens", status_code=201, response_model=TokenCreated)
async def create_token(body: TokenIn, actor: CurrentActor, db: DbSession) -> TokenCreated:
    row, token = await service.create_token(db, actor, body.name)
    return TokenCreated(id=row.id, name=row.name, token=token)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(actor: CurrentActor, db: DbSession) -> list[TokenOut]:
    return [
        TokenOut.model_validate(t, from_attributes=True)
        for t in await service.list_tokens(db, actor)
    ]


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> Response:
    await service.revoke_token(db, actor, token_id)
    return Response(status_code=204)
