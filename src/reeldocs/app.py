"""The web application: JSON API, pages, and (unless told otherwise) a worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from reeldocs.core.db import DatabaseUrls, create_engine, database_urls, ping
from reeldocs.core.errors import ReeldocsError
from reeldocs.core.limits import BodyLimitMiddleware
from reeldocs.core.openapi import errors, install_openapi
from reeldocs.core.settings import Settings, get_settings
from reeldocs.core.storage import WEB_TIMEOUTS, open_storage
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.publishing.addresses import SITE_PREFIX

_logger = logging.getLogger(__name__)

WEB_POOL_SIZE = 16  # database connections a web process keeps open
GZIP_MINIMUM_BYTES = 1000

HTTP_KINDS = {
    400: "BadRequest",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    415: "UnsupportedMedia",
    422: "ValidationError",
    429: "TooManyRequests",
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/healthz"


def error_response(
    request: Request,
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    if status == 404 and request.url.path.startswith(f"{SITE_PREFIX}/"):
        # A docs site's one answer for every address that shows nothing.
        from reeldocs.publishing.responses import not_found_response

        return not_found_response(request)
    if _wants_json(request):
        return JSONResponse(body, status_code=status, headers=headers)
    from reeldocs.pages.rendering import render_error

    response = render_error(request, status, body["detail"])
    response.headers.update(headers or {})
    return response


def _validation_sentence(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")
        )
        message = str(error.get("msg", "is not valid")).rstrip(".")
        problems.append(f"{where or 'the request'}: {message}")
    return "The request is not valid (" + "; ".join(problems) + ")."


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _path_param_fields(dependant: Dependant) -> list[Any]:
    fields = list(dependant.path_params)
    for sub in dependant.dependencies:
        fields.extend(_path_param_fields(sub))
    return fields


def _path_params_valid(route: RouteContext, child_scope: Mapping[str, Any]) -> bool:
    if not isinstance(route.original_route, APIRoute):
        return True
    fields = _path_param_fields(route.dependant)
    _, problems = request_params_to_args(fields, child_scope.get("path_params", {}))
    return not problems


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route at this address accepts: Starlette's own `Allow` names only
    the first route it found (GET /login, not the POST /login beside it). A route counts
    only when the address is valid for it: GET /api/videos/{video_id} does not make
    /api/videos/process, which is not a video id, an address that takes GET."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        for route in iter_route_contexts(request.app.router.routes):
            match, child_scope = route.matches(scope)
            if match == Match.FULL and _path_params_valid(route, child_scope):
                allowed.append(method)
                break
    return allowed


def _another_routes_address(request: Request) -> Response | None:
    """405 when the route that answered does not take this address (its path parameters
    refuse it) and other routes take it, for other methods only: GET /api/videos/process
    reached GET /api/videos/{video_id}, but the address is POST /api/videos/process's."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return None
    path_params = request.scope.get("path_params", {})
    _, problems = request_params_to_args(_path_param_fields(route.dependant), path_params)
    if not problems:
        return None
    allowed = _allowed_methods(request)
    if not allowed or request.method in allowed:
        return None
    return _method_not_allowed(request, allowed)


def _method_not_allowed(request: Request, allowed: list[str]) -> Response:
    return error_response(
        request,
        405,
        {
            "error": "MethodNotAllowed",
            "detail": f"This address does not accept {request.method} requests.",
        },
        {"Allow": ", ".join(allowed)},
    )


_UNREADABLE_JSON: dict[type[BaseException], str] = {
    UnicodeDecodeError: "The request body is not valid JSON: it must be text in UTF-8.",
    RecursionError: "The request body's JSON is nested too deeply to be read.",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReeldocsError)
    async def reeldocs_error(request: Request, exc: ReeldocsError) -> Response:
        # Who is asking is settled before the path is: an anonymous GET /api/videos/process
        # fails authentication before "process" fails to be a video id.
        elsewhere = _another_routes_address(request) if exc.status in (401, 403) else None
        if elsewhere is not None:
            return elsewhere
        return error_response(request, exc.status, exc.body())

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        elsewhere = _another_routes_address(request)
        if elsewhere is not None:
            return elsewhere
        return error_response(
            request, 422, {"error": "ValidationError", "detail": _validation_sentence(exc)}
        )

    @app.exception_handler(DataError)
    async def unstorable_value(request: Request, exc: DataError) -> Response:
        # Values the schema let through but PostgreSQL refuses (a NUL character in a
        # text, a number out of range) came from the caller: tell them, not a 500.
        _logger.warning("refused value on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(
            request,
            422,
            {
                "error": "ValidationError",
                "detail": "The request holds a value that cannot be stored, such as a NUL "
                "character in a text or a number out of range: correct it and try again.",
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        cause = exc.__cause__
        unreadable = _UNREADABLE_JSON.get(type(cause)) if cause and exc.status_code == 400 else None
        if unreadable is not None:
            # FastAPI answers 400 when a JSON body cannot be decoded at all, and 422 when
            # it decodes to something that is not JSON: to the caller, both are JSON to fix.
            return error_response(request, 422, {"error": "ValidationError", "detail": unreadable})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                return _method_not_allowed(request, allowed)
        kind = HTTP_KINDS.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else kind
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        elif exc.status_code == 405:
            detail = f"This address does not accept {request.method} requests."
        headers = dict(exc.headers or {})
        return error_response(request, exc.status_code, {"error": kind, "detail": detail}, headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        _logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            {
                "error": "InternalError",
                "detail": "Something went wrong on the server. Try again; if it keeps "
                "happening, tell your administrator.",
            },
        )


def create_app(
    settings: Settings | None = None,
    *,
    urls: DatabaseUrls | None = None,
    run_worker: bool = False,
    worker_concurrency: int = 1,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from reeldocs.jobs.queue import build_queue
        from reeldocs.jobs.worker import run_worker_forever

        resolved = urls if urls is not None else await run_in_threadpool(database_urls, settings)
        app.state.urls = resolved
        # Connections past the pool's size are opened for one request and closed after it,
        # and opening one costs milliseconds of CPU (SCRAM): a burst of polls must find
        # enough of them kept open.
        app.state.engine = create_engine(
            resolved, pool_size=WEB_POOL_SIZE, max_overflow=8, cheap_liveness=True
        )
        app.state.storage = AsyncStorage(
            open_storage(settings.storage_url, settings.s3_endpoint_url, timeouts=WEB_TIMEOUTS)
        )
        app.state.queue = build_queue(resolved.libpq, settings)
        worker: asyncio.Task[None] | None = None
        async with app.state.queue.open_async():
            if run_worker:
                worker = asyncio.create_task(
                    run_worker_forever(settings, resolved, concurrency=worker_concurrency)
                )
            try:
                yield
            finally:
                if worker is not None:
                    worker.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await worker
                await app.state.engine.dispose()

    # The API reference at /docs serves Swagger UI's files from the installed package, not a
    # CDN: it must work on a laptop with no network.
    app = FastAPIOffline(
        title="Reeldocs",
        version="0.1.0",
        summary="Turn product and tutorial videos into documentation.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Who is asking (per-address limits) and over what (Secure cookies) come from
    # X-Forwarded-For and X-Forwarded-Proto only when a configured proxy sent them; with
    # none configured, nobody's are believed (uvicorn is started without its own).
    app.add_middleware(BodyLimitMiddleware, respond=error_response)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    # Pages, scripts, styles and JSON shrink to a third or less (htmx 52 KB to 17 KB, the
    # stylesheet 14 KB to 4 KB). Starlette leaves videos, byte ranges (206) and compressed
    # images (WebP) as they are; under 1 KB gzip saves less than it costs. Level 6 writes
    # within 0.5% of level 9's size.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)

    from reeldocs.auth.routes import router as auth_router
    from reeldocs.docs.edit_routes import router as editing_router
    from reeldocs.docs.routes import router as docs_router
    from reeldocs.glossary.routes import router as glossary_router
    from reeldocs.jobs.routes import polling_router
    from reeldocs.jobs.routes import router as jobs_router
    from reeldocs.metrics.routes import router as metrics_router
    from reeldocs.orgs.routes import invitations_router
    from reeldocs.orgs.routes import router as orgs_router
    from reeldocs.pages.job_pages import card_router
    from reeldocs.pages.routes import install_pages
    from reeldocs.projects.routes import router as projects_router
    from reeldocs.publishing import documents as site_documents
    from reeldocs.publishing import files as site_files
    from reeldocs.publishing import pages as site_pages
    from reeldocs.videos.routes import router as videos_router
    from reeldocs.webhooks.routes import router as webhooks_router

    # FastAPI tries routes in order: trying the hundred others before the ones every open
    # tab polls cost a tenth of a millisecond of CPU per poll. No other route matches them.
    app.include_router(polling_router)
    app.include_router(card_router)
    for router in (
        auth_router,
        orgs_router,
        invitations_router,
        projects_router,
        glossary_router,
        videos_router,
        jobs_router,
        docs_router,
        editing_router,
        webhooks_router,
        metrics_router,
        # A docs site's files and documents first: its pages' addresses would take theirs.
        site_files.router,
        site_documents.router,
        site_pages.router,
    ):
        app.include_router(router)

    @app.get(
        "/healthz",
        tags=["health"],
        responses={503: {**errors(503)[503], "description": "The database is not answering."}},
    )
    async def healthz(request: Request) -> Response:
        if await ping(request.app.state.engine):
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {"error": "Unavailable", "detail": "The database is not answering."}, status_code=503
        )

    install_pages(app)
    install_openapi(app)
    return app
