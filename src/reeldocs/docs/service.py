"""Reading a video's published docs: segments, articles, screenshots, subtitles, exports."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor
from reeldocs.core.errors import Invalid, NotFound
from reeldocs.core.languages import language_name, ordered_languages
from reeldocs.core.storage_async import AsyncStorage
from reeldocs.docs.models import Article, Chapter, Screenshot, Subtitle
from reeldocs.docs.subtitles import Cue, to_srt, to_webvtt
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video, VideoSegment

SCREENSHOT_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}\.webp$")


def _require_docs(video: Video) -> uuid.UUID:
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


async def _primary_language(session: AsyncSession, video: Video) -> str | None:
    from reeldocs.jobs.models import ProcessingJob

    languages = (
        await session.execute(
            sa.select(ProcessingJob.languages)
            .where(ProcessingJob.run_id == video.docs_run_id, ProcessingJob.status == "completed")
            .limit(1)
        )
    ).scalar_one_or_none()
    return languages[0] if languages else None


@dataclass
class ArticleView:
    id: uuid.UUID
    title: str
    slug: str
    language: str
    chapter_title: str
    order: int
    content_markdown: str
    start_time: float


async def articles(
    session: AsyncSession, actor: Actor, video_id: uuid.UUID, language: str | None
) -> list[ArticleView]:
    video = await videos.get(session, actor, video_id)
    run_id = _require_docs(video)
    available = await published_languages(session, video)
    if language is None:
        language = await _primary_language(session, video) or (available[0] if available else None)
    if language not in available:
        names = ", ".join(f"{language_name(c)} ({c})" for c in available) or "none"
        raise NotFound(f"This video has no docs in {language}. Languages available: {names}.")
    return await _published_articles(session, video.id, run_id, language)


async def _published_articles(
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
        ArticleView(
            id=a.id,
            title=a.title,
            slug=a.slug,
            language=a.language,
            chapter_title=chapter_title,
            order=a.order,
            content_markdown=a.content_markdown,
            start_time=start_time,
        )
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
    rows = await _subtitles_by_language(session, _require_docs(video))
    if language is None:
        language = await _primary_language(session, video) or next(iter(sorted(rows)), None)
    if language not in rows:
        names = ", ".join(sorted(rows)) or "none"
        raise NotFound(f"This video has no subtitles in {language}. Languages available: {names}.")
    return language, _cues(rows[language])


async def _subtitles_by_language(session: AsyncSession, run_id: uuid.UUID) -> dict[str, Subtitle]:
    rows = await session.execute(sa.select(Subtitle).where(Subtitle.run_id == run_id))
    return {subtitle.language: subtitle for subtitle in rows.scalars()}


def _cues(subtitle: Subtitle) -> list[Cue]:
    return [Cue(c["start"], c["end"], c["text"]) for c in subtitle.cues]


async def subtitle_languages(session: AsyncSession, video: Video) -> list[str]:
    """The video's subtitle languages, its primary language first (the player's default)."""
    if video.docs_run_id is None:
        return []
    rows = await session.execute(
        sa.select(Subtitle.language).where(Subtitle.run_id == video.docs_run_id)
    )
    return ordered_languages(rows.scalars(), await _primary_language(session, video))


def to_mdx(markdown: str) -> str:
    """MDX treats `{`, `}` and `<` as code: escape them outside code so the file compiles."""
    out: list[str] = []
    fenced = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = re.split(r"(`[^`]*`)", line)
        out.append(
            "".join(
                part
                if part.startswith("`")
                else part.replace("{", "\\{").replace("}", "\\}").replace("<", "&lt;")
                for part in parts
            )
        )
    return "\n".join(out)


@dataclass(frozen=True)
class ExportPlan:
    """What an export holds: its text files, and the stored screenshots still to read."""

    filename: str
    texts: dict[str, str]
    screenshots: dict[str, str]  # name in the zip → storage key


async def plan_export(
    session: AsyncSession, actor: Actor, video_id: uuid.UUID, fmt: str
) -> ExportPlan:
    """Everything the export needs from the database; the storage is read afterwards, so
    no database connection waits on it."""
    if fmt not in ("markdown", "mdx"):
        raise Invalid("The export format must be markdown or mdx.")
    video = await videos.get(session, actor, video_id)
    run_id = _require_docs(video)
    extension = "md" if fmt == "markdown" else "mdx"
    texts: dict[str, str] = {}
    for article in await _published_articles(session, video.id, run_id, None):
        body = article.content_markdown.replace("](screenshots/", "](../screenshots/")
        if fmt == "mdx":
            front = f'---\ntitle: "{article.title.replace(chr(34), chr(39))}"\n---\n\n'
            body = front + to_mdx(body)
        texts[f"{article.language}/{article.order + 1:02d}-{article.slug}.{extension}"] = body
    for language, subtitle in sorted((await _subtitles_by_language(session, run_id)).items()):
        cues = _cues(subtitle)
        texts[f"subtitles/{language}.vtt"] = to_webvtt(cues)
        texts[f"subtitles/{language}.srt"] = to_srt(cues)
    shots = await session.execute(sa.select(Screenshot).where(Screenshot.run_id == run_id))
    screenshots = {f"screenshots/{shot.name}": shot.storage_path for shot in shots.scalars()}
    slug = re.sub(r"[^a-z0-9]+", "-", video.title.lower()).strip("-") or "video"
    return ExportPlan(f"{slug}-{fmt}.zip", texts, screenshots)


async def build_export(storage: AsyncStorage, plan: ExportPlan) -> bytes:
    """The zip: screenshots read from storage in threads, the archive built in one."""
    files: dict[str, str | bytes] = dict(plan.texts)
    for name, key in plan.screenshots.items():
        data = await storage.read_bytes(key)
        if data is not None:
            files[name] = data
    return await anyio.to_thread.run_sync(_zip, files)


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def segment_out(segment: VideoSegment) -> dict[str, Any]:
    return {
        "start_time": segment.start_time,
        "end_time": segment.end_time,
        "spoken_content": segment.spoken_content,
        "visual_context": segment.visual_context,
    }
