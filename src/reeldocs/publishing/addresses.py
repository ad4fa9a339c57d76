"""Where a project's docs site and its pages live. A leaf module: the API's answers (a
project's `public_url`) and the site itself build their addresses here."""

from __future__ import annotations

from urllib.parse import quote

SITE_PREFIX = "/p"


def _part(value: str) -> str:
    return quote(value, safe="")


def site_path(org_slug: str, project_slug: str) -> str:
    """The site's home: `/p/{org_slug}/{project_slug}/`."""
    return f"{SITE_PREFIX}/{_part(org_slug)}/{_part(project_slug)}/"


def video_path(site: str, language: str, video_slug: str) -> str:
    """A video's page in one language, below the site's home path `site`."""
    return f"{site}{_part(language)}/{_part(video_slug)}/"


def article_path(site: str, language: str, video_slug: str, article_slug: str) -> str:
    return f"{video_path(site, language, video_slug)}{_part(article_slug)}"


def video_file_path(site: str, video_slug: str) -> str:
    return f"{site}{_part(video_slug)}/file"


def screenshot_path(site: str, video_slug: str, name: str) -> str:
    return f"{site}{_part(video_slug)}/screenshots/{_part(name)}"


def subtitles_path(site: str, video_slug: str, language: str) -> str:
    return f"{site}{_part(video_slug)}/subtitles/{_part(language)}.vtt"


def public_url(base_url: str, org_slug: str, project_slug: str) -> str:
    """The site's absolute address, from REELDOCS_PUBLIC_URL or the request's own."""
    return base_url.rstrip("/") + site_path(org_slug, project_slug)
