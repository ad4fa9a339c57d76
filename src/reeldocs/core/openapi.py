"""What the OpenAPI document says each operation may answer.

Most error statuses follow from what a route depends on, and are added to the generated
document from the routes themselves: a signed-in caller (401; 403 for a cookie request
without its CSRF token when it changes something), a path parameter naming something to
look up (404, and 422 when it is malformed), parameters or a body (422), a body (413).
What a route's own checks may answer besides (roles, conflicts, rate limits, storage) it
declares with `responses=errors(...)`. Every one of them has the body `ErrorOut`, which
also replaces FastAPI's own validation error schema: the app answers 422 with it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

from reeldocs.core.deps import SAFE_METHODS, current_actor, optional_actor
from reeldocs.core.errors import ErrorOut
from reeldocs.core.security import SESSION_COOKIE

ERROR_SCHEMA = "ErrorOut"
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}

ERROR_DESCRIPTIONS = {
    400: "The request could not be read as sent, such as an upload cut short.",
    401: "Nobody is signed in: no session cookie, or an API token that is not valid.",
    403: "Not allowed: a viewer asking to change something, an action only the team's "
    "owners may take, or a request signed in with the session cookie that is neither JSON "
    "nor carries its CSRF token.",
    404: "It does not exist, or it belongs to a team the caller is not in.",
    409: "It conflicts with how things stand now; the detail says what to do.",
    412: "The copy the caller changed is out of date: someone saved another version since "
    "(its `If-Match` is not the current ETag). The body's `article` is the current one.",
    413: "The body is larger than this address accepts.",
    415: "The body is not of a kind this address accepts.",
    416: "The byte range asked for is outside the file.",
    422: "The request is not valid; the detail names what to correct.",
    429: "Too many attempts from this address or for this account: try again later.",
    503: "The file storage is not answering: try again shortly.",
}

# The schemes a signed-in caller may use, as the document names them.
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from the settings page, POST /api/tokens or "
        "`reeldocs tokens create`.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The browser's session. Requests that change something must be JSON "
        "or carry the CSRF token of GET /api/auth/session as X-CSRF-Token.",
    },
}
SIGNED_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]


def errors(*statuses: int, model: type[ErrorOut] = ErrorOut) -> dict[int | str, Any]:
    """`responses=` for the error statuses a route's own checks may answer."""
    return {
        status: {"model": model, "description": ERROR_DESCRIPTIONS[status]} for status in statuses
    }


def signed_in(*statuses: int) -> dict[str, Any]:
    """`openapi_extra=` for a route that reads its caller itself, not through a dependency
    (the job poll): what the dependency would have said of it."""
    return {"security": SIGNED_IN, "x-reeldocs-errors": [401, *statuses]}


def _calls(dependant: Dependant) -> Iterable[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _has_params(dependant: Dependant) -> bool:
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or any(_has_params(sub) for sub in dependant.dependencies)
    )


def api_routes(routes: Iterable[BaseRoute]) -> Iterable[RouteContext]:
    """Every API route, as served: included routers' routes with their prefixes and the
    dependencies, responses and tags the routers add."""
    for context in iter_route_contexts(list(routes)):
        if isinstance(context.original_route, APIRoute):
            yield context


def derived_errors(route: RouteContext, method: str) -> set[int]:
    """The error statuses `route` may answer to `method` because of what it depends on."""
    statuses: set[int] = set()
    if optional_actor in set(_calls(route.dependant)):
        statuses.add(401)  # an API token that is not valid, even where signing in is optional
        if method not in SAFE_METHODS:
            statuses.add(403)  # the CSRF check of cookie requests
    if route.dependant.path_params:
        statuses.add(404)
    has_body = route.body_field is not None or "requestBody" in (route.openapi_extra or {})
    if has_body:
        statuses.add(413)
    if has_body or _has_params(route.dependant):
        statuses.add(422)
    return statuses


def _requires_actor(route: RouteContext) -> bool:
    return current_actor in set(_calls(route.dependant))


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": dict(_ERROR_REF)}},
    }


def _uses_fastapi_validation_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def complete_document(document: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Add to the generated `document` the errors and security each operation has."""
    for route in api_routes(routes):
        if not route.include_in_schema:
            continue
        extra = route.openapi_extra or {}
        for method in sorted(route.methods or ()):
            operation = document["paths"][route.path_format][method.lower()]
            responses: dict[str, Any] = operation["responses"]
            declared = set(extra.get("x-reeldocs-errors", ()))
            for status in sorted(derived_errors(route, method) | declared):
                current = responses.get(str(status))
                if current is None or _uses_fastapi_validation_error(current):
                    responses[str(status)] = _error_response(status)
            operation.pop("x-reeldocs-errors", None)
            if _requires_actor(route):
                operation["security"] = SIGNED_IN
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault(
        ERROR_SCHEMA, ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    # FastAPI's own validation error is never what the app answers.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the generated document completed with what `complete_document` adds."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_document(generate(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
