"""A docs site for programs: each article's Markdown (its page's address with `.md`),
llms.txt, llms-full.txt and sitemap.xml, with absolute links (REELDOCS_PUBLIC_URL when
set). Their routes come before the pages': `.md` would be taken for an article's slug."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reeldocs.core.deps import DbSession
from reeldocs.publishing import reading, texts
from reeldocs.publishing.access import nothing_here, open_site
from reeldocs.publishing.caching import cache_headers, not_modified
from reeldocs.publishing.reading import ArticleEntry, SiteContents, SiteVideo
from reeldocs.publishing.responses import (
    READS,
    base_url,
    not_modified_response,
    page_tag,
    site_headers,
)

router = APIRouter(prefix="/p/{org_slug}/{project_slug}", include_in_schema=False)


async def _texts_for_programs(
    request: Request, db: DbSession, org_slug: str, project_slug: str
) -> tuple[SiteContents, texts.SiteAddresses]:
    site = await open_site(request, db, org_slug, project_slug)
    contents = await reading.load(db, site)
    await reading.load_articles(db, contents, contents.videos, None)
    return contents, texts.SiteAddresses(base_url(request), contents)


async def _all_texts(db: DbSession, contents: SiteContents) -> dict[object, reading.ArticleText]:
    entries = [entry for group in contents.entries.values() for entry in group]
    return {text.entry.id: text for text in await reading.texts(db, entries)}


@router.api_route("/llms.txt", methods=READS)
async def llms_txt(org_slug: str, project_slug: str, request: Request, db: DbSession) -> Response:
    """The llmstxt.org index of the site: a link to each article's Markdown."""
    contents, links = await _texts_for_programs(request, db, org_slug, project_slug)
    headers = cache_headers(contents.site, page_tag(request, contents, "llms.txt"))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    found = await _all_texts(db, contents)
    body = texts.llms_txt(
        contents, links, {key: text.content_markdown for key, text in found.items()}
    )
    return site_headers(Response(body, media_type="text/plain; charset=utf-8", headers=headers))


@router.api_route("/llms-full.txt", methods=READS)
async def llms_full_txt(
    org_slug: str, project_slug: str, request: Request, db: DbSession
) -> Response:
    """Every published article's Markdown in one file."""
    contents, links = await _texts_for_programs(request, db, org_slug, project_slug)
    headers = cache_headers(contents.site, page_tag(request, contents, "llms-full.txt"))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    body = texts.llms_full_txt(contents, links, await _all_texts(db, contents))
    return site_headers(Response(body, media_type="text/plain; charset=utf-8", headers=headers))


@router.api_route("/sitemap.xml", methods=READS)
async def sitemap_xml(
    org_slug: str, project_slug: str, request: Request, db: DbSession
) -> Response:
    """The site's pages for search engines (the sitemaps.org protocol)."""
    contents, links = await _texts_for_programs(request, db, org_slug, project_slug)
    headers = cache_headers(contents.site, page_tag(request, contents, "sitemap.xml"))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    body = texts.sitemap_xml(contents, links)
    return site_headers(Response(body, media_type="application/xml", headers=headers))


def find_entry(contents: SiteContents, video: SiteVideo, language: str, slug: str) -> ArticleEntry:
    for entry in contents.articles(video, language):
        if entry.slug == slug:
            return entry
    raise nothing_here()


@router.api_route("/{language}/{video_slug}/{article_slug}.md", methods=READS)
async def article_markdown(
    org_slug: str,
    project_slug: str,
    language: str,
    video_slug: str,
    article_slug: str,
    request: Request,
    db: DbSession,
) -> Response:
    """One article's Markdown, its moments and screenshots linked absolutely (llms.txt
    links here)."""
    site = await open_site(request, db, org_slug, project_slug)
    contents = await reading.load(db, site)
    video = contents.video(video_slug)
    await reading.load_articles(db, contents, [video], language)
    entry = find_entry(contents, video, language, article_slug)
    headers = cache_headers(site, page_tag(request, contents, "markdown", entry.id))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    found = await reading.texts(db, [entry])
    if not found:
        raise nothing_here()
    links = texts.SiteAddresses(base_url(request), contents)
    body = texts.article_markdown(
        found[0],
        moment=links.moment(video, language),
        screenshot=links.screenshot(video),
    )
    headers["Content-Language"] = language
    return site_headers(Response(body, media_type="text/markdown; charset=utf-8", headers=headers))
