"""What every answer of a docs site carries: its security headers, an ETag made from what
the site shows, 304 for a current copy, and the one 404 of every address that shows
nothing."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from reeldocs.pages.rendering import templates
from reeldocs.publishing.access import NOTHING_PUBLISHED_HERE
from reeldocs.publishing.caching import etag
from reeldocs.publishing.reading import SiteContents

# What a docs site answers to: HEAD too, for link checkers and crawlers.
READS = ["GET", "HEAD"]

# Nothing inline, nothing from elsewhere: the pages' only script and stylesheet are ours.
SITE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def site_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = SITE_CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def base_url(request: Request) -> str:
    """Where absolute links point: REELDOCS_PUBLIC_URL, else the request's own address."""
    settings = request.app.state.settings
    return str(settings.base_url(str(request.base_url)))


def page_tag(request: Request, contents: SiteContents, *page: object) -> str:
    """A page's ETag: what the site shows, the address its absolute links use, the page."""
    return etag(contents.stamp(), base_url(request), *page)


def not_modified_response(headers: dict[str, str]) -> Response:
    return site_headers(Response(status_code=304, headers=headers))


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def not_found_response(request: Request) -> Response:
    """The one answer of every address under /p/ that shows nothing."""
    headers = {"Cache-Control": "no-store", "Vary": "Cookie"}
    if wants_json(request):
        body = {"error": "NotFound", "detail": NOTHING_PUBLISHED_HERE}
        return site_headers(JSONResponse(body, status_code=404, headers=headers))
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "site/not_found.html",
        {"detail": NOTHING_PUBLISHED_HERE},
        status_code=404,
        headers=headers,
    )
    return site_headers(response)
