"""The docs site's pages, under `/p/{org_slug}/{project_slug}/`: the home page, each video's
page and each article's page in each language, and search. Server-rendered, for anyone
once the project's docs are public.

Every answer starts by opening the site (access.open_site picks the database role), then
reads what the site shows (reading.load) and makes the page's ETag from it: a reader
whose copy is current gets 304 before anything is rendered. Pages load one small script
(seeking the player) and one stylesheet, under a policy that allows nothing inline.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from reeldocs.core.deps import AppStorage, DbSession
from reeldocs.core.languages import language_name, text_direction
from reeldocs.docs.export_text import shown_screenshots
from reeldocs.pages.markdown import ArticleLinks, PageImages, render_article
from reeldocs.pages.rendering import templates
from reeldocs.pages.screenshot_sizes import screenshot_sizes
from reeldocs.publishing import addresses, reading, texts, views
from reeldocs.publishing.access import nothing_here, open_site
from reeldocs.publishing.caching import cache_headers, not_modified
from reeldocs.publishing.documents import find_entry
from reeldocs.publishing.reading import ArticleEntry, SiteContents, SiteVideo
from reeldocs.publishing.responses import (
    READS,
    base_url,
    not_modified_response,
    page_tag,
    site_headers,
    wants_json,
)
from reeldocs.publishing.search import clean_query, search

router = APIRouter(prefix="/p/{org_slug}/{project_slug}", include_in_schema=False)

# A chapter's heading on a video's page is an h2 (the page's h1 is the video's title);
# on an article's own page the article's title is the h1.
VIDEO_PAGE_LEVEL = 2
ARTICLE_PAGE_LEVEL = 1


def _language(contents: SiteContents, wanted: str | None) -> str:
    if wanted in contents.languages:
        return str(wanted)
    return contents.main_language or "en"


def _render(
    request: Request,
    template: str,
    contents: SiteContents,
    language: str,
    headers: dict[str, str],
    context: dict[str, Any],
) -> Response:
    values = {
        "base_url": base_url(request),
        "indexed": True,  # search engines may list the page
        "site": contents.site,
        "contents": contents,
        "language": language,
        "direction": text_direction(language),
        "home_href": views.home_href(contents, language),
        "search_action": f"{contents.site.path}search",
        "llms_href": f"{contents.site.path}llms.txt",
        "preview": views.preview_note(contents),
        **context,
    }
    response = templates.TemplateResponse(request, template, values, headers=headers)
    return site_headers(response)


def _article_links(contents: SiteContents, video: SiteVideo) -> ArticleLinks:
    # The page shows the video's player: a moment seeks it without leaving the page.
    return ArticleLinks(
        moment=lambda seconds: f"#t={seconds}",
        screenshot=lambda name: addresses.screenshot_path(contents.site.path, video.slug, name),
    )


async def _rendered(
    db: DbSession,
    storage: AppStorage,
    contents: SiteContents,
    video: SiteVideo,
    entries: list[ArticleEntry],
    level: int,
) -> list[dict[str, Any]]:
    """The articles of `entries` as HTML, their headings nested below `level`."""
    found = await reading.texts(db, entries)
    names = set().union(*(shown_screenshots(text.content_markdown) for text in found))
    sizes = await screenshot_sizes(db, storage, video.id, video.run_id, names)
    images = PageImages(sizes)
    links = _article_links(contents, video)
    return [
        {
            "entry": text.entry,
            "href": views.article_href(contents, video, text.entry),
            "html": render_article(
                text.content_markdown,
                video.id,
                text.entry.title,
                heading_level=level,
                images=images,
                links=links,
            ),
        }
        for text in found
    ]


async def _player(db: DbSession, contents: SiteContents, video: SiteVideo) -> dict[str, Any]:
    site = contents.site.path
    return {
        "src": addresses.video_file_path(site, video.slug),
        "tracks": [
            {
                "language": code,
                "label": language_name(code),
                "src": addresses.subtitles_path(site, video.slug, code),
            }
            for code in await reading.subtitle_languages(db, video)
        ],
    }


# -- pages ----------------------------------------------------------------------------------


@router.api_route("/", methods=READS)
async def home(
    org_slug: str, project_slug: str, request: Request, db: DbSession, lang: str | None = None
) -> Response:
    """The site's videos and their chapters, in the reader's language."""
    site = await open_site(request, db, org_slug, project_slug)
    contents = await reading.load(db, site)
    language = _language(contents, lang)
    headers = cache_headers(site, page_tag(request, contents, "home", language))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    await reading.load_articles(db, contents, contents.videos, language)
    listing = [
        {
            "video": video,
            "language": video.language_for(language),
            "href": views.video_href(contents, video, video.language_for(language)),
            "chapters": [
                {"entry": entry, "href": views.article_href(contents, video, entry)}
                for entry in contents.articles(video, video.language_for(language))
            ],
        }
        for video in contents.videos
    ]
    return _render(
        request,
        "site/home.html",
        contents,
        language,
        headers,
        {
            "listing": listing,
            "navigation": views.navigation(contents, language),
            "languages": views.switcher(views.home_languages(contents), language),
            "summary": texts.summary(contents) if contents.videos else None,
        },
    )


@router.api_route("/search", methods=READS)
async def search_page(
    org_slug: str,
    project_slug: str,
    request: Request,
    db: DbSession,
    q: str | None = None,
    lang: str | None = None,
) -> Response:
    """Search the site's articles in one language: a page, or `[{title, url, snippet}]`
    for `Accept: application/json` (the snippet is HTML: escaped text, words in <mark>)."""
    site = await open_site(request, db, org_slug, project_slug)
    contents = await reading.load(db, site)
    language = _language(contents, lang)
    query = clean_query(q)
    as_json = wants_json(request)
    headers = cache_headers(site, page_tag(request, contents, "search", language, query, as_json))
    headers["Vary"] = ", ".join(filter(None, [headers.get("Vary"), "Accept"]))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    hits = await search(db, site, language, query)
    if as_json:
        base = base_url(request)
        body = [
            {
                "title": hit.title,
                "url": base
                + addresses.article_path(site.path, language, hit.video_slug, hit.article_slug),
                "snippet": str(hit.snippet),
            }
            for hit in hits
        ]
        return site_headers(JSONResponse(body, headers=headers))
    results = [
        {
            "hit": hit,
            "href": addresses.article_path(site.path, language, hit.video_slug, hit.article_slug),
        }
        for hit in hits
    ]
    return _render(
        request,
        "site/search.html",
        contents,
        language,
        headers,
        {
            "indexed": False,  # a page of results is no page of the docs
            "query": query,
            "results": results,
            "navigation": views.navigation(contents, language),
            "languages": views.switcher(
                {code: views.search_href(contents, code, query) for code in contents.languages},
                language,
            ),
        },
    )


@router.api_route("/{language}/{video_slug}/", methods=READS)
async def video_page(
    org_slug: str,
    project_slug: str,
    language: str,
    video_slug: str,
    request: Request,
    db: DbSession,
    storage: AppStorage,
) -> Response:
    """The video's player and all its articles in one language."""
    site = await open_site(request, db, org_slug, project_slug)
    contents = await reading.load(db, site)
    video = contents.video(video_slug)
    if language not in video.languages:
        raise nothing_here()
    headers = cache_headers(site, page_tag(request, contents, "video", video.id, language))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    await reading.load_articles(db, contents, [video], language)
    entries = contents.articles(video, language)
    return _render(
        request,
        "site/video.html",
        contents,
        language,
        headers,
        {
            "video": video,
            "player": await _player(db, contents, video),
            "articles": await _rendered(db, storage, contents, video, entries, VIDEO_PAGE_LEVEL),
            "navigation": views.navigation(contents, language, open_video=video),
            "languages": views.switcher(views.video_languages(contents, video), language),
        },
    )


@router.api_route("/{language}/{video_slug}/{article_slug}", methods=READS)
async def article_page(
    org_slug: str,
    project_slug: str,
    language: str,
    video_slug: str,
    article_slug: str,
    request: Request,
    db: DbSession,
    storage: AppStorage,
) -> Response:
    """One article with the video's player and the chapters before and after it."""
    site = await open_site(request, db, org_slug, project_slug)
    contents = await reading.load(db, site)
    video = contents.video(video_slug)
    # the chapter in every language, and the chapters before and after it
    await reading.load_articles(db, contents, [video], None)
    await reading.load_articles(db, contents, views.around(contents, video), language)
    entry = find_entry(contents, video, language, article_slug)
    headers = cache_headers(site, page_tag(request, contents, "article", entry.id))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    rendered = await _rendered(db, storage, contents, video, [entry], ARTICLE_PAGE_LEVEL)
    if not rendered:
        raise nothing_here()
    return _render(
        request,
        "site/article.html",
        contents,
        language,
        headers,
        {
            "video": video,
            "article": rendered[0],
            "video_href": views.video_href(contents, video, language),
            "player": await _player(db, contents, video),
            "neighbours": views.neighbours(contents, language, entry),
            "navigation": views.navigation(
                contents, language, open_video=video, current_article=entry
            ),
            "languages": views.switcher(views.article_languages(contents, video, entry), language),
        },
    )
