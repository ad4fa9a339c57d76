"""A docs site's files: each shown video's bytes (one `Range` at a time, as players ask),
its screenshots and its subtitles, under the same rules as its pages. Their routes come
before the pages': `{language}/{video_slug}/{article_slug}` would take their addresses."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from reeldocs.core.deps import AppStorage, DbSession
from reeldocs.core.errors import NotFound
from reeldocs.docs.subtitle_files import Cue, to_webvtt
from reeldocs.publishing import reading
from reeldocs.publishing.access import nothing_here, open_site
from reeldocs.publishing.caching import cache_headers, etag, not_modified
from reeldocs.publishing.responses import READS, not_modified_response, site_headers
from reeldocs.videos import service as videos

router = APIRouter(prefix="/p/{org_slug}/{project_slug}", include_in_schema=False)

_SCREENSHOT_STEM = re.compile(r"^[A-Za-z0-9._-]{1,95}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@router.api_route("/{video_slug}/screenshots/{stem}.webp", methods=READS)
async def screenshot(
    org_slug: str,
    project_slug: str,
    video_slug: str,
    stem: str,
    request: Request,
    db: DbSession,
    storage: AppStorage,
) -> Response:
    site = await open_site(request, db, org_slug, project_slug)
    video = (await reading.load(db, site)).video(video_slug)
    if not _SCREENSHOT_STEM.match(stem):
        raise nothing_here()
    path = await reading.screenshot_path(db, video, f"{stem}.webp")
    await db.commit()  # the connection goes back to the pool before the storage is asked
    # A stored screenshot never changes: its path names the run that made it.
    headers = cache_headers(site, etag("screenshot", path, weak=False), media=True)
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    opened = await storage.open_whole(path)
    if opened is None:
        raise nothing_here()
    headers["Content-Length"] = str(opened.size)
    return site_headers(StreamingResponse(opened.chunks, media_type="image/webp", headers=headers))


@router.api_route("/{video_slug}/subtitles/{language}.vtt", methods=READS)
async def subtitles(
    org_slug: str,
    project_slug: str,
    video_slug: str,
    language: str,
    request: Request,
    db: DbSession,
) -> Response:
    """The video's subtitles in one language, for the site's player."""
    site = await open_site(request, db, org_slug, project_slug)
    video = (await reading.load(db, site)).video(video_slug)
    if not _LANGUAGE.match(language):
        raise nothing_here()
    cues, made = await reading.subtitle_cues(db, video, language)
    headers = cache_headers(site, etag("subtitles", video.id, video.run_id, language, made))
    if not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    headers["Content-Language"] = language
    body = to_webvtt([Cue(c["start"], c["end"], c["text"]) for c in cues])
    return site_headers(Response(body, media_type="text/vtt; charset=utf-8", headers=headers))


@router.api_route("/{video_slug}/file", methods=READS)
async def video_file(
    org_slug: str,
    project_slug: str,
    video_slug: str,
    request: Request,
    db: DbSession,
    storage: AppStorage,
) -> Response:
    """The published video's bytes, whole or one `Range`."""
    site = await open_site(request, db, org_slug, project_slug)
    video = (await reading.load(db, site)).video(video_slug)
    stored = await reading.video_source(db, video)
    await db.commit()  # the connection goes back to the pool before the storage is asked
    size = await storage.size(stored.storage_path)
    if size is None:
        raise nothing_here()
    headers = cache_headers(site, etag("video", video.id, size, weak=False), media=True)
    headers["Accept-Ranges"] = "bytes"
    range_header = request.headers.get("range")
    if range_header is None and not_modified(request, headers["ETag"]):
        return not_modified_response(headers)
    source = videos.StoredSource(stored.storage_path, size, stored.mime or "video/mp4")
    try:
        wanted = videos.requested_range(range_header, size)
    except videos.RangeNotSatisfiable as exc:
        headers["Content-Range"] = f"bytes */{size}"
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
    status = 200
    if wanted is None:
        wanted = videos.ByteRange(0, size - 1)
    else:
        status = 206
        headers["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    headers["Content-Length"] = str(wanted.length)
    try:
        chunks = await videos.open_source(storage, source, wanted)
    except NotFound:
        raise nothing_here() from None
    return site_headers(
        StreamingResponse(chunks, status_code=status, media_type=source.mime, headers=headers)
    )
