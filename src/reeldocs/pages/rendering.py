"""Rendering pages: a full page normally, only the page's content for htmx requests.

Every page template extends `layout.html` or `fragment.html`, chosen here from the
`HX-Request` header, so one template serves both (and caches are told they differ).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from reeldocs.core import security
from reeldocs.core.deps import Actor
from reeldocs.docs.references import display_moment
from reeldocs.providers.registry import language_name

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# Scripts only from this server (no inline code, no eval): article Markdown that slipped
# past the renderer's escaping still could not run. Inline styles stay allowed for the
# widths of progress bars.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

STATUS_TITLES = {
    400: "This request cannot be handled",
    401: "Log in to continue",
    403: "You cannot do this",
    404: "Page not found",
    405: "This action is not available here",
    409: "This cannot be done right now",
    413: "The file is too large",
    415: "This file type is not supported",
    422: "Some details need fixing",
    429: "Too many attempts",
    500: "Something went wrong",
}


@lru_cache(maxsize=64)
def _static_version(name: str) -> str:
    # A content hash in the URL lets browsers cache assets for long without serving old ones.
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    return f"/static/{name}?v={_static_version(name)}"


def format_duration(seconds: float | None) -> str:
    return "—" if seconds is None else display_moment(seconds)


def format_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def format_when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.strftime("%d %b %Y, %H:%M UTC")


def _build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.globals["static_url"] = static_url
    env.globals["language_name"] = language_name
    env.filters["language_names"] = lambda codes, separator=", ": separator.join(
        language_name(code) for code in codes
    )
    env.filters["duration"] = format_duration
    env.filters["size"] = format_size
    env.filters["when"] = format_when
    env.filters["percent"] = lambda value: f"{round(float(value) * 100)}%"
    return templates


templates = _build_templates()


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request", "").lower() == "true"


def request_actor(request: Request) -> Actor | None:
    actor: Actor | None = getattr(request.state, "actor", None)
    return actor


def csrf_for(request: Request) -> str | None:
    actor = request_actor(request)
    if actor is None or actor.session_token is None:
        return None
    return security.csrf_token(request.app.state.settings.secret_key, actor.session_token)


def page_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    fragment: bool | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page: in its layout, or alone when htmx asks (or `fragment` says so)."""
    as_fragment = is_htmx(request) if fragment is None else fragment
    actor = request_actor(request)
    values: dict[str, Any] = {
        "actor": actor,
        "csrf_token": csrf_for(request),
        "fragment": as_fragment,
        "current_path": request.url.path,
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, template, values, status_code=status, headers=headers
    )
    page_headers(response)
    return response


def login_redirect(request: Request) -> Response:
    """Send someone who is not logged in to the log-in page, and back here afterwards."""
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = "/"
    location = "/login?next=" + quote(target, safe="/")
    if is_htmx(request):
        # A redirect inside an htmx swap would paint the log-in page into a card.
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def render_error(request: Request, status: int, detail: str) -> Response:
    if status == 401:
        return login_redirect(request)
    title = STATUS_TITLES.get(status, "Something went wrong")
    return render(
        request,
        "pages/error.html",
        {"status": status, "title": title, "detail": detail},
        status=status,
    )
