"""How long the docs site's answers may be kept, and by whom, and their ETags.

A public page may be kept by browsers and shared caches for a minute, then asked again
with its ETag: an unchanged site answers 304 from one or two small queries, without
rendering anything. The ETag is made from what every page depends on (the site's videos,
their docs' runs and article versions: `SiteContents.stamp`), the page's own address, and
the templates and assets that draw it. A member's preview of a private site is theirs
alone: `private`, and it differs with the session cookie.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fastapi import Request

from reeldocs.publishing.access import Site

PUBLIC_PAGE = "public, max-age=60"
# Screenshots and the video change only when the video is processed again.
PUBLIC_MEDIA = "public, max-age=300"
MEMBERS_ONLY = "private"

_PACKAGE = Path(__file__).resolve().parent.parent
_DRAWN_BY = (
    _PACKAGE / "templates" / "site",
    _PACKAGE / "static",
    _PACKAGE / "publishing",
    _PACKAGE / "pages" / "markdown.py",
)


@lru_cache(maxsize=1)
def site_version() -> str:
    """A digest of the templates, assets and code that draw the site: a new release of
    Reeldocs changes every ETag."""
    digest = hashlib.sha256()
    for place in _DRAWN_BY:
        paths = sorted(place.rglob("*")) if place.is_dir() else [place]
        for path in paths:
            if path.is_file() and path.suffix in (".html", ".css", ".js", ".py", ".svg"):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def etag(*parts: object, weak: bool = True) -> str:
    """An ETag for what `parts` describe. Weak for pages (they are sent gzipped or not),
    strong for files sent byte for byte."""
    text = json.dumps([site_version(), *parts], default=str, separators=(",", ":"))
    tag = f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'
    return f"W/{tag}" if weak else tag


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/").strip()


def not_modified(request: Request, tag: str) -> bool:
    """Whether the client's copy (If-None-Match) is the one `tag` names; compared weakly,
    as RFC 9110 asks for GET."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(tag)
    return any(_opaque(candidate) == wanted for candidate in header.split(","))


def cache_headers(site: Site, tag: str, *, media: bool = False) -> dict[str, str]:
    if site.preview:
        return {"ETag": tag, "Cache-Control": MEMBERS_ONLY, "Vary": "Cookie"}
    return {"ETag": tag, "Cache-Control": PUBLIC_MEDIA if media else PUBLIC_PAGE}
