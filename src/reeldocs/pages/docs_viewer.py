"""The docs viewer: a video's articles in one language beside its player.

Editors and owners also get, per article, its editor (title and Markdown with a preview
rendered by the viewer's own code), the proposal a later run made for an article they
edited, and the way to translate out-of-date translations again. Every article is drawn
by one template in one of three states: read, being edited, or in conflict with a save
made since the editor was opened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor, AppSettings, CurrentActor, DbSession
from reeldocs.core.errors import NotFound
from reeldocs.docs import editing
from reeldocs.docs import service as docs
from reeldocs.jobs import service as jobs
from reeldocs.orgs.access import require_writer
from reeldocs.pages import queries
from reeldocs.pages.diffs import DiffLine, diff_lines
from reeldocs.pages.markdown import SCREENSHOT_REFERENCE, PageImages, render_article
from reeldocs.pages.rendering import is_htmx, render
from reeldocs.pages.screenshot_sizes import screenshot_sizes
from reeldocs.pages.video_pages import video_context
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video

router = APIRouter(include_in_schema=False)

# The page's h1 is the video's title; a chapter's heading is an h2.
CHAPTER_LEVEL = 2


@dataclass(frozen=True)
class Draft:
    """What a person is writing into an article's editor, not saved yet."""

    title: str
    markdown: str
    etag: str  # the version the draft was started from: sent back as If-Match
    error: str | None = None


@dataclass(frozen=True)
class Conflict:
    """A save refused because someone saved the article since: their version and ours."""

    theirs_title: str
    theirs_markdown: str
    yours: Draft
    saved_by: str | None
    saved_at: datetime
    rows: list[DiffLine]  # from their version to ours


@dataclass
class ProposalCard:
    title: str
    created_at: datetime | None
    rows: list[DiffLine]


@dataclass
class ArticleCard:
    id: uuid.UUID
    title: str
    slug: str
    language: str
    start_time: float
    level: int
    html: str
    markdown: str
    edited: bool
    stale: bool
    etag: str
    mode: Literal["read", "edit", "conflict"] = "read"
    proposal: ProposalCard | None = None
    draft: Draft | None = None
    preview: str = ""
    conflict: Conflict | None = None


@dataclass
class ChapterView:
    title: str
    sources: list[docs.ArticleView]
    cards: list[ArticleCard] = field(default_factory=list)

    @property
    def titled(self) -> bool:
        """A chapter of one article that bears its name needs no heading of its own."""
        return len(self.sources) > 1 or self.sources[0].title != self.title


def docs_url(video_id: uuid.UUID, language: str, slug: str | None = None) -> str:
    return f"/videos/{video_id}/docs?language={language}" + (f"#article-{slug}" if slug else "")


def normalise_newlines(text: str) -> str:
    """Browsers send a textarea's line breaks as CR LF; the docs keep LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _chapters(articles: list[docs.ArticleView]) -> list[ChapterView]:
    chapters: list[ChapterView] = []
    for article in articles:
        if not chapters or chapters[-1].title != article.chapter_title:
            chapters.append(ChapterView(article.chapter_title, []))
        chapters[-1].sources.append(article)
    return chapters


def titled_chapters(articles: list[docs.ArticleView]) -> set[uuid.UUID]:
    """The articles that sit under a heading of their chapter (one level deeper)."""
    return {a.id for chapter in _chapters(articles) if chapter.titled for a in chapter.sources}


async def _proposal(db: AsyncSession, actor: Actor, article: docs.ArticleView) -> ProposalCard:
    offered = await editing.proposal(db, actor, article.id)
    return ProposalCard(
        title=offered.title,
        created_at=await queries.proposal_time(db, article.id),
        rows=diff_lines(article.content_markdown, offered.content_markdown),
    )


async def docs_context(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    video_id: uuid.UUID,
    language: str | None,
    *,
    drafts: dict[uuid.UUID, Draft] | None = None,
    conflicts: dict[uuid.UUID, Conflict] | None = None,
) -> dict[str, Any]:
    """Everything the docs page shows; the articles named in `drafts` are shown in their
    editor holding that draft, those in `conflicts` with both versions side by side."""
    drafts = drafts or {}
    conflicts = conflicts or {}
    context = await video_context(db, actor, video_id)
    video: Video = context["video"]
    chapters: list[ChapterView] = []
    shown_language = language
    if video.docs_run_id is not None:
        articles = await docs.articles(db, actor, video_id, language)
        texts = [a.content_markdown for a in articles] + [d.markdown for d in drafts.values()]
        shown = (m.group(1) for text in texts for m in SCREENSHOT_REFERENCE.finditer(text))
        sizes = await screenshot_sizes(
            db, request.app.state.storage, video.id, video.docs_run_id, shown
        )
        images = PageImages(sizes)
        chapters = _chapters(articles)
        for chapter in chapters:
            # An article is a subsection of its chapter, or the chapter itself when untitled.
            level = CHAPTER_LEVEL + 1 if chapter.titled else CHAPTER_LEVEL
            for article in chapter.sources:
                chapter.cards.append(
                    await _card(
                        db, actor, video, article, level, images, context, drafts, conflicts
                    )
                )
        shown_language = articles[0].language if articles else language
    stale = sum(card.stale for chapter in chapters for card in chapter.cards)
    context.update({"chapters": chapters, "language": shown_language, "stale_count": stale})
    return context


async def _card(
    db: AsyncSession,
    actor: Actor,
    video: Video,
    article: docs.ArticleView,
    level: int,
    images: PageImages,
    context: dict[str, Any],
    drafts: dict[uuid.UUID, Draft],
    conflicts: dict[uuid.UUID, Conflict],
) -> ArticleCard:
    card = ArticleCard(
        id=article.id,
        title=article.title,
        slug=article.slug,
        language=article.language,
        start_time=article.start_time,
        level=level,
        html=render_article(
            article.content_markdown,
            video.id,
            article.title,
            heading_level=level,
            images=images,
        ),
        markdown=article.content_markdown,
        edited=article.edited,
        stale=article.stale,
        etag=editing.etag(article),
    )
    if not context["can_write"]:
        return card
    if article.has_proposal:
        card.proposal = await _proposal(db, actor, article)
    draft = drafts.get(article.id)
    if draft is not None:
        card.mode, card.draft = "edit", draft
        # counted on its own, as the preview's own answers are
        card.preview = render_article(
            draft.markdown,
            video.id,
            draft.title,
            heading_level=level,
            images=PageImages(images.sizes),
        )
    conflict = conflicts.get(article.id)
    if conflict is not None:
        card.mode, card.conflict = "conflict", conflict
    return card


def find_card(context: dict[str, Any], article_id: uuid.UUID) -> ArticleCard:
    chapters: list[ChapterView] = context["chapters"]
    for chapter in chapters:
        for card in chapter.cards:
            if card.id == article_id:
                return card
    raise NotFound(editing.NO_SUCH_ARTICLE)


@router.get("/videos/{video_id}/docs")
async def docs_page(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    language: str | None = None,
    edit: uuid.UUID | None = None,
) -> Response:
    """The docs; `edit` opens one article's editor (the way in without the page's script)."""
    drafts: dict[uuid.UUID, Draft] = {}
    if edit is not None:
        article = await editing.get(db, actor, edit)
        if article.video_id != video_id:
            raise NotFound(editing.NO_SUCH_ARTICLE)
        video = await videos.get(db, actor, video_id)
        await require_writer(db, actor, video.org_id, "video")
        language = article.language
        drafts[edit] = Draft(article.title, article.content_markdown, editing.etag(article))
    context = await docs_context(request, db, actor, video_id, language, drafts=drafts)
    return render(request, "pages/docs.html", context)


def after_change(request: Request, context: dict[str, Any], article: docs.ArticleView) -> Response:
    """Answer a change made from the docs page: the page again, the changed article in
    view (its heading focused, for the page's script), or a redirect without the script."""
    if not is_htmx(request):
        return RedirectResponse(
            docs_url(article.video_id, article.language, article.slug), status_code=303
        )
    context["focus_article"] = article.id
    return render(
        request,
        "pages/docs.html",
        context,
        fragment=True,
        headers={"HX-Retarget": "#main", "HX-Reswap": "morph:innerHTML"},
    )


@router.post("/videos/{video_id}/retranslate")
async def retranslate(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
    language: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Translate the docs into `language` again from their current text (every language
    with out-of-date articles without one), as a job; on to the job's page."""
    job = await jobs.create_retranslate_job(
        db,
        actor,
        request.app.state.queue,
        settings,
        video_id,
        [language] if language else None,
    )
    return RedirectResponse(f"/projects/{job.project_id}/jobs/{job.id}", status_code=303)
