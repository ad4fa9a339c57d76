"""Reading a video's published docs: segments, articles, screenshots, subtitles (exports
are written from these by `reeldocs.docs.export`)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor
from reeldocs.core.errors import NotFound
from reeldocs.core.languages import language_name, ordered_languages
from reeldocs.docs.models import Article, Chapter, Screenshot, Subtitle
from reeldocs.docs.subtitles import Cue
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video, VideoSegment

SCREENSHOT_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}\.webp$")


def require_docs(video: Video) -> uuid.UUID:
    if video.docs_run_id is None:
        raise NotFound(
            "This video has no documentation yet: process it first, or wait for its job to finish."
        )
    return video.docs_run_id


async def segments(session: AsyncSession, actor: Actor, video_id: uuid.UUID) -> list[VideoSegment]:
    video = await videos.get(session, actor, video_id)
    if video.docs_run_id is None:
        return []
    rows = await session.execute(
        sa.select(VideoSegment)
        .where(VideoSegment.video_id == video.id, VideoSegment.run_id == video.docs_run_id)
        .order_by(VideoSegment.order)
    )
    return list(rows.scalars())


async def published_languages(session: AsyncSession, video: Video) -> list[str]:
    return (await videos.languages_ready(session, [video]))[video.id]


async def primary_language(session: AsyncSession, video: Video) -> str | None:
    from reeldocs.jobs.models import ProcessingJob

    languages = (
        await session.execute(
            sa.select(ProcessingJob.languages)
            .where(ProcessingJob.run_id == video.docs_run_id, ProcessingJob.status == "completed")
            .limit(1)
        )
    ).scalar_one_or_none()
    return languages[0] if languages else None


async def translation_languages(session: AsyncSession, video: Video) -> list[str]:
    """The languages the video's docs are translated into (all but the primary one)."""
    primary = await primary_language(session, video)
    return [code for code in await published_languages(session, video) if code != primary]


async def stale_languages(session: AsyncSession, video: Video) -> list[str]:
    """The translations of the video's docs with stale articles, by code."""
    rows = await session.execute(
        sa.select(Article.language)
        .distinct()
        .where(
            Article.video_id == video.id,
            Article.run_id == video.docs_run_id,
            Article.status == "published",
            Article.stale,
        )
        .order_by(Article.language)
    )
    return list(rows.scalars())


@dataclass
class ArticleView:
    id: uuid.UUID
    video_id: uuid.UUID
    title: str
    slug: str
    language: str
    chapter_title: str
    order: int
    content_markdown: str
    start_time: float
    edited: bool
    has_proposal: bool
    stale: bool
    updated_at: datetime
    version: int


def article_view(article: Article, chapter_title: str, start_time: float) -> ArticleView:
    return ArticleView(
        id=article.id,
        video_id=article.video_id,
        title=article.title,
        slug=article.slug,
        language=article.language,
        chapter_title=chapter_title,
        order=article.order,
        content_markdown=article.content_markdown,
        start_time=start_time,
        edited=article.edited,
        has_proposal=article.proposal_markdown is not None,
        stale=article.stale,
        updated_at=article.updated_at,
        version=article.version,
    )


async def articles(
    session: AsyncSession, actor: Actor, video_id: uuid.UUID, language: str | None
) -> list[ArticleView]:
    video = await videos.get(session, actor, video_id)
    run_id = require_docs(video)
    available = await published_languages(session, video)
    if language is None:
        language = await primary_language(session, video) or (available[0] if available else None)
    if language not in available:
        names = ", ".join(f"{language_name(c)} ({c})" for c in available) or "none"
        raise NotFound(f"This video has no docs in {language}. Languages available: {names}.")
    return await published_articles(session, video.id, run_id, language)


async def published_articles(
    session: AsyncSession, video_id: uuid.UUID, run_id: uuid.UUID, language: str | None
) -> list[ArticleView]:
    """The run's published articles in one language, or in all of them (language None)."""
    query = (
        sa.select(Article, Chapter.title, Chapter.start_time)
        .join(Chapter, Chapter.id == Article.chapter_id)
        .where(
            Article.video_id == video_id,
            Article.run_id == run_id,
            Article.status == "published",
        )
        .order_by(Article.language, Article.order)
    )
    if language is not None:
        query = query.where(Article.language == language)
    return [
        article_view(a, chapter_title, start_time)
        for a, chapter_title, start_time in await session.execute(query)
    ]


async def screenshot(
    session: AsyncSession, actor: Actor, video_id: uuid.UUID, name: str
) -> Screenshot:
    video = await videos.get(session, actor, video_id)
    if not SCREENSHOT_NAME.match(name):
        raise NotFound("There is no screenshot with this name.")
    row = (
        await session.execute(
            sa.select(Screenshot).where(
                Screenshot.video_id == video.id,
                Screenshot.run_id == video.docs_run_id,
                Screenshot.name == name,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("There is no screenshot with this name for this video.")
    return row


async def subtitle_cues(
    session: AsyncSession, actor: Actor, video_id: uuid.UUID, language: str | None
) -> tuple[str, list[Cue]]:
    video = await videos.get(session, actor, video_id)
    rows = await subtitles_by_language(session, require_docs(video))
    if language is None:
        language = await primary_language(session, video) or next(iter(sorted(rows)), None)
    if language not in rows:
        names = ", ".join(sorted(rows)) or "none"
        raise NotFound(f"This video has no subtitles in {language}. Languages available: {names}.")
    return language, cues_of(rows[language])


async def subtitles_by_language(session: AsyncSession, run_id: uuid.UUID) -> dict[str, Subtitle]:
    rows = await session.execute(sa.select(Subtitle).where(Subtitle.run_id == run_id))
    return {subtitle.language: subtitle for subtitle in rows.scalars()}


def cues_of(subtitle: Subtitle) -> list[Cue]:
    return [Cue(c["start"], c["end"], c["text"]) for c in subtitle.cues]


async def subtitle_languages(session: AsyncSession, video: Video) -> list[str]:
    """The video's subtitle languages, its primary language first (the player's default)."""
    if video.docs_run_id is None:
        return []
    rows = await session.execute(
        sa.select(Subtitle.language).where(Subtitle.run_id == video.docs_run_id)
    )
    return ordered_languages(rows.scalars(), await primary_language(session, video))


def segment_out(segment: VideoSegment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "start_time": segment.start_time,
        "end_time": segment.end_time,
        "spoken_content": segment.spoken_content,
        "visual_context": segment.visual_context,
        "edited": segment.edited,
    }
