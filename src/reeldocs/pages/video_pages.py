"""A video's page (player, transcript, job history, exports) and its docs viewer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor, CurrentActor, DbSession
from reeldocs.docs import service as docs
from reeldocs.jobs import service as jobs
from reeldocs.orgs.access import require_member
from reeldocs.orgs.models import WRITER_ROLES
from reeldocs.pages.job_views import language_choices
from reeldocs.pages.markdown import SCREENSHOT_REFERENCE, PageImages, render_article
from reeldocs.pages.project_pages import JOB_HELPERS
from reeldocs.pages.rendering import render
from reeldocs.pages.screenshot_sizes import screenshot_sizes
from reeldocs.projects import service as projects
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video

router = APIRouter(include_in_schema=False)

# A video in these states may be (re)processed from its page.
PROCESSABLE = ("uploaded", "ready", "failed")


async def _video_context(db: AsyncSession, actor: Actor, video_id: uuid.UUID) -> dict[str, Any]:
    video = await videos.get(db, actor, video_id)
    project = await projects.get(db, actor, video.project_id)
    role = await require_member(db, actor, video.org_id, "video")
    return {
        "video": video,
        "project": project,
        "can_write": role in WRITER_ROLES,
        "subtitle_languages": await docs.subtitle_languages(db, video),
        "ready_languages": (await videos.languages_ready(db, [video]))[video.id],
    }


@router.get("/videos/{video_id}")
async def video_page(
    video_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    context = await _video_context(db, actor, video_id)
    if context["can_write"] and context["video"].status in PROCESSABLE:
        context["language_options"] = await language_choices(request.app.state.settings)
    context["segments"] = await docs.segments(db, actor, video_id)
    context["history"] = await jobs.video_job_history(db, actor, video_id)
    context.update(JOB_HELPERS)
    return render(request, "pages/video.html", context)


@dataclass
class ChapterView:
    title: str
    sources: list[docs.ArticleView]
    articles: list[dict[str, Any]]

    @property
    def titled(self) -> bool:
        """A chapter of one article that bears its name needs no heading of its own."""
        return len(self.sources) > 1 or self.sources[0].title != self.title


# The page's h1 is the video's title; a chapter's heading is an h2.
CHAPTER_LEVEL = 2


def _chapters(
    video: Video, articles: list[docs.ArticleView], images: PageImages
) -> list[ChapterView]:
    chapters: list[ChapterView] = []
    for article in articles:
        if not chapters or chapters[-1].title != article.chapter_title:
            chapters.append(ChapterView(article.chapter_title, [], []))
        chapters[-1].sources.append(article)
    for chapter in chapters:
        # An article is a subsection of its chapter, or the chapter itself when untitled.
        level = CHAPTER_LEVEL + 1 if chapter.titled else CHAPTER_LEVEL
        for article in chapter.sources:
            html = render_article(
                article.content_markdown,
                video.id,
                article.title,
                heading_level=level,
                images=images,
            )
            chapter.articles.append(
                {
                    "id": article.id,
                    "title": article.title,
                    "slug": article.slug,
                    "start_time": article.start_time,
                    "level": level,
                    "html": html,
                }
            )
    return chapters


@router.get("/videos/{video_id}/docs")
async def docs_page(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    language: str | None = None,
) -> Response:
    context = await _video_context(db, actor, video_id)
    video: Video = context["video"]
    chapters: list[ChapterView] = []
    shown_language = language
    if video.docs_run_id is not None:
        articles = await docs.articles(db, actor, video_id, language)
        shown = (
            m.group(1) for a in articles for m in SCREENSHOT_REFERENCE.finditer(a.content_markdown)
        )
        sizes = await screenshot_sizes(
            db, request.app.state.storage, video.id, video.docs_run_id, shown
        )
        chapters = _chapters(video, articles, PageImages(sizes))
        shown_language = articles[0].language if articles else language
    context.update({"chapters": chapters, "language": shown_language})
    return render(request, "pages/docs.html", context)
