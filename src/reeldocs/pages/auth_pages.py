"""Sign-up, log-in and log-out pages.

Before a session exists there is no session token to tie a CSRF token to, so the
log-in and sign-up forms use a double-submit pair: a random value in an HttpOnly
cookie, and its HMAC in the form. Another site can make a browser post the form but
cannot read the cookie to compute the matching field.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from reeldocs.auth import service
from reeldocs.auth.routes import client_address, request_is_https, set_session_cookie
from reeldocs.core import security
from reeldocs.core.deps import AppSettings, DbSession, OptionalActor
from reeldocs.core.errors import ReeldocsError
from reeldocs.core.settings import Settings
from reeldocs.pages.rendering import render

router = APIRouter(include_in_schema=False)

FORM_COOKIE = "reeldocs_form"


def safe_next(target: str | None) -> str:
    """Only paths on this site: an open redirect would let a link send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _form_token(settings: Settings, cookie_value: str) -> str:
    return hmac.new(
        settings.secret_key.encode(), b"form:" + cookie_value.encode(), "sha256"
    ).hexdigest()


def _form_cookie_value(request: Request) -> str:
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def _form_valid(request: Request, settings: Settings, candidate: str) -> bool:
    cookie = request.cookies.get(FORM_COOKIE)
    if not cookie or not candidate:
        return False
    return hmac.compare_digest(_form_token(settings, cookie), candidate)


def _render_form(
    request: Request,
    settings: Settings,
    template: str,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    cookie = _form_cookie_value(request)
    response = render(
        request,
        template,
        {
            "form_token": _form_token(settings, cookie),
            "error": error,
            "values": values or {},
            "next": safe_next(request.query_params.get("next") or (values or {}).get("next")),
            "allow_signup": settings.allow_signup,
        },
        status=status,
    )
    response.set_cookie(
        FORM_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=request_is_https(request),
        path="/",
    )
    return response


_EXPIRED_FORM = "This form expired or was sent from another site. Try again."


def _logged_in_redirect(target: str) -> Response:
    return RedirectResponse(safe_next(target), status_code=303)


@router.get("/login")
async def login_page(request: Request, actor: OptionalActor, settings: AppSettings) -> Response:
    if actor is not None:
        return _logged_in_redirect(request.query_params.get("next", "/"))
    return _render_form(request, settings, "pages/login.html")


@router.post("/login")
async def login_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(alias=security.CSRF_FIELD)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    values = {"email": email, "next": next}
    if not _form_valid(request, settings, csrf_token):
        return _render_form(
            request, settings, "pages/login.html", status=403, error=_EXPIRED_FORM, values=values
        )
    try:
        new = await service.log_in(
            db,
            request.app.state.engine,
            email,
            password,
            client_address(request),
            failures_per_address=settings.login_failures_per_address,
        )
    except ReeldocsError as error:
        return _render_form(
            request,
            settings,
            "pages/login.html",
            status=error.status,
            error=error.detail,
            values=values,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, new.token)
    return response


@router.get("/signup")
async def signup_page(request: Request, actor: OptionalActor, settings: AppSettings) -> Response:
    if actor is not None:
        return _logged_in_redirect("/")
    return _render_form(request, settings, "pages/signup.html")


@router.post("/signup")
async def signup_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(alias=security.CSRF_FIELD)] = "",
) -> Response:
    values = {"email": email, "name": name}
    if not _form_valid(request, settings, csrf_token):
        return _render_form(
            request, settings, "pages/signup.html", status=403, error=_EXPIRED_FORM, values=values
        )
    try:
        service.require_signup_open(settings.allow_signup)
        await service.check_signup_rate(
            db,
            request.app.state.engine,
            client_address(request),
            per_hour=settings.signups_per_hour,
        )
        user, _org = await service.create_user(db, email, password, name or None)
        new = await service.start_session(db, user.id)
    except ReeldocsError as error:
        # The failed insert must not be committed half-way.
        await db.rollback()
        await db.begin()
        return _render_form(
            request,
            settings,
            "pages/signup.html",
            status=error.status,
            error=error.detail,
            values=values,
        )
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(request, response, new.token)
    return response


@router.post("/logout")
async def logout_submit(actor: OptionalActor, db: DbSession) -> Response:
    # Resolving the actor checked the form's CSRF token against the session.
    if actor is not None and actor.session_token is not None:
        await service.end_session(db, actor.session_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response
