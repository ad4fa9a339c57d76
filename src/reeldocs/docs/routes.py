from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from reeldocs.core.deps import AppSettings, CurrentActor, DbSession
from reeldocs.docs import service
from reeldocs.docs.subtitles import to_srt, to_webvtt
from reeldocs.providers.registry import language_options

router = APIRouter(prefix="/api", tags=["docs"])


class SegmentOut(BaseModel):
    start_time: float
    end_time: float
    spoken_content: str
    visual_context: str


class ArticleOut(BaseModel):
    id: uuid.UUID
    title: str
    slug: str
    language: str
    chapter_title: str
    order: int
    content_markdown: str


class LanguageOut(BaseModel):
    code: str
    label: str
    primary: bool
    translate: bool
    spoken: bool


@router.get("/languages", response_model=list[LanguageOut])
async def languages(settings: AppSettings) -> list[LanguageOut]:
    return [LanguageOut(**vars(option)) for option in language_options(settings)]


@router.get("/videos/{video_id}/segments", response_model=list[SegmentOut])
async def segments(video_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> list[SegmentOut]:
    return [
        SegmentOut(**service.segment_out(s)) for s in await service.segments(db, actor, video_id)
    ]


@router.get("/videos/{video_id}/articles", response_model=list[ArticleOut])
async def articles(
    video_id: uuid.UUID, actor: CurrentActor, db: DbSession, language: str | None = None
) -> list[ArticleOut]:
    return [
        ArticleOut.model_validate(a, from_attributes=True)
        for a in await service.articles(db, actor, video_id, language)
    ]


@router.get("/videos/{video_id}/screenshots/{name}", response_class=Response)
async def screenshot(
    video_id: uuid.UUID, name: str, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    shot = await service.screenshot(db, actor, video_id, name)
    storage = request.app.state.storage
    size = storage.size(shot.storage_path)
    if size is None:
        return Response(status_code=404)
    return StreamingResponse(
        storage.read_range(shot.storage_path, 0, size - 1),
        media_type="image/webp",
        headers={"Content-Length": str(size), "Cache-Control": "private, max-age=86400"},
    )


@router.get("/videos/{video_id}/subtitles.vtt", response_class=Response)
async def subtitles_vtt(
    video_id: uuid.UUID, actor: CurrentActor, db: DbSession, language: str | None = None
) -> Response:
    code, cues = await service.subtitle_cues(db, actor, video_id, language)
    return Response(
        to_webvtt(cues),
        media_type="text/vtt; charset=utf-8",
        headers={"Content-Language": code},
    )


@router.get("/videos/{video_id}/subtitles.srt", response_class=Response)
async def subtitles_srt(
    video_id: uuid.UUID, actor: CurrentActor, db: DbSession, language: str | None = None
) -> Response:
    code, cues = await service.subtitle_cues(db, actor, video_id, language)
    return Response(
        to_srt(cues),
        media_type="application/x-subrip; charset=utf-8",
        headers={
            "Content-Language": code,
            "Content-Disposition": f'attachment; filename="subtitles-{code}.srt"',
        },
    )


@router.get("/videos/{video_id}/export", response_class=Response)
async def export(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    format: Literal["markdown", "mdx"] = "markdown",
) -> Response:
    filename, data = await service.export_zip(
        db, actor, request.app.state.storage, video_id, format
    )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
