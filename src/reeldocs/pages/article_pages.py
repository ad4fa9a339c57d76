"""Editing an article from the docs viewer: its editor and live preview, saving against the
version the editor was opened on, and a later run's proposal to accept or reject.

The page's script swaps one article at a time (htmx); without it every action is a form
that answers with the docs page, the article's editor opened where it was.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor, CurrentActor, DbSession
from reeldocs.core.errors import Invalid, PreconditionFailed
from reeldocs.docs import editing
from reeldocs.docs import service as docs
from reeldocs.orgs.access import require_writer
from reeldocs.pages.diffs import diff_lines
from reeldocs.pages.docs_viewer import (
    CHAPTER_LEVEL,
    Conflict,
    Draft,
    after_change,
    docs_context,
    docs_url,
    find_card,
    normalise_newlines,
    titled_chapters,
)
from reeldocs.pages.markdown import SCREENSHOT_REFERENCE, PageImages, render_article
from reeldocs.pages.rendering import is_htmx, render
from reeldocs.pages.screenshot_sizes import screenshot_sizes
from reeldocs.pages.video_pages import REFUSAL_HEADERS
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video

router = APIRouter(include_in_schema=False)

# No length limit of the form's own: the service refuses too long a title or text with a
# sentence the editor shows, and the request body cap bounds what is read.
TitleField = Annotated[str, Form()]
MarkdownField = Annotated[str, Form()]


async def editable(
    db: AsyncSession, actor: Actor, article_id: uuid.UUID
) -> tuple[docs.ArticleView, Video]:
    """The article and its video, once the caller may change it: 404 for other teams'
    articles, 403 for viewers."""
    article = await editing.get(db, actor, article_id)
    video = await videos.get(db, actor, article.video_id)
    await require_writer(db, actor, video.org_id, "article")
    return article, video


async def _show(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    article: docs.ArticleView,
    *,
    drafts: dict[uuid.UUID, Draft] | None = None,
    conflicts: dict[uuid.UUID, Conflict] | None = None,
    status: int = 200,
) -> Response:
    """The article in the state given: alone for the page's script, else the docs page."""
    context = await docs_context(
        request,
        db,
        actor,
        article.video_id,
        article.language,
        drafts=drafts,
        conflicts=conflicts,
    )
    if not is_htmx(request):
        return render(request, "pages/docs.html", context, status=status)
    card = find_card(context, article.id)
    return render(
        request,
        "partials/article_card.html",
        {**context, "card": card},
        status=status,
        headers=REFUSAL_HEADERS if status >= 400 else None,
    )


def _draft_of(article: docs.ArticleView) -> Draft:
    return Draft(article.title, article.content_markdown, editing.etag(article))


@router.get("/articles/{article_id}/edit")
async def article_editor(
    article_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    article, video = await editable(db, actor, article_id)
    if not is_htmx(request):
        url = f"/videos/{video.id}/docs?language={article.language}&edit={article.id}"
        return RedirectResponse(f"{url}#article-{article.slug}", status_code=303)
    return await _show(request, db, actor, article, drafts={article.id: _draft_of(article)})


@router.get("/articles/{article_id}/card")
async def article_card(
    article_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    """The article as the viewer shows it: what Cancel puts back in place of its editor."""
    article = await editing.get(db, actor, article_id)
    if not is_htmx(request):
        url = docs_url(article.video_id, article.language, article.slug)
        return RedirectResponse(url, status_code=303)
    return await _show(request, db, actor, article)


@router.post("/articles/{article_id}/preview")
async def article_preview(
    article_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    title: TitleField = "",
    content_markdown: MarkdownField = "",
) -> Response:
    """The draft as the viewer would show it, by the viewer's own renderer, with its
    headings at the levels the article's place on the page gives them."""
    article, video = await editable(db, actor, article_id)
    assert video.docs_run_id is not None  # a published article is part of the video's docs
    markdown = normalise_newlines(content_markdown)
    siblings = await docs.published_articles(db, video.id, video.docs_run_id, article.language)
    level = CHAPTER_LEVEL + 1 if article.id in titled_chapters(siblings) else CHAPTER_LEVEL
    shown = (m.group(1) for m in SCREENSHOT_REFERENCE.finditer(markdown))
    sizes = await screenshot_sizes(
        db, request.app.state.storage, video.id, video.docs_run_id, shown
    )
    html = render_article(markdown, video.id, title, heading_level=level, images=PageImages(sizes))
    return render(request, "partials/preview.html", {"html": html}, fragment=True)


def _if_match(request: Request, etag: str) -> str | None:
    """The version the draft was made on: the page's script sends it as If-Match, a form
    without the script in a field."""
    return request.headers.get("if-match") or etag or None


@router.post("/articles/{article_id}/edit")
async def save_article(
    article_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    title: TitleField = "",
    content_markdown: MarkdownField = "",
    etag: Annotated[str, Form(max_length=100)] = "",
    intent: Annotated[str, Form(max_length=20)] = "save",
) -> Response:
    """Save the editor's draft, unless someone saved the article since the draft's version:
    then both versions are shown side by side and nothing is overwritten. `intent=preview`
    shows the draft in its editor again, with its preview (without the page's script)."""
    article, _ = await editable(db, actor, article_id)
    if_match = _if_match(request, etag)
    draft = Draft(title, normalise_newlines(content_markdown), if_match or editing.etag(article))
    if intent == "preview":
        return await _show(request, db, actor, article, drafts={article.id: draft})
    try:
        saved = await editing.update(
            db,
            actor,
            article.id,
            title=draft.title,
            markdown=draft.markdown,
            if_match=if_match,
        )
    except PreconditionFailed:
        conflict = await _conflict(db, actor, article.id, draft)
        return await _show(
            request, db, actor, article, conflicts={article.id: conflict}, status=412
        )
    except Invalid as error:
        drafts = {article.id: replace(draft, error=error.detail)}
        return await _show(request, db, actor, article, drafts=drafts, status=error.status)
    context = await docs_context(request, db, actor, saved.video_id, saved.language)
    return after_change(request, context, saved)


async def _conflict(
    db: AsyncSession, actor: Actor, article_id: uuid.UUID, draft: Draft
) -> Conflict:
    """The version saved since the draft was started, who saved it, and the draft, which
    a save from here would put in its place (it carries the saved version's ETag)."""
    saved = await editing.get(db, actor, article_id)
    latest = (await editing.revisions(db, actor, article_id))[0]
    return Conflict(
        theirs_title=saved.title,
        theirs_markdown=saved.content_markdown,
        yours=replace(draft, etag=editing.etag(saved)),
        saved_by=latest.author_email,
        saved_at=latest.created_at,
        rows=diff_lines(saved.content_markdown, draft.markdown),
    )


@router.post("/articles/{article_id}/proposal/accept")
async def accept_proposal(
    article_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    await editable(db, actor, article_id)
    article = await editing.accept(db, actor, article_id)
    context = await docs_context(request, db, actor, article.video_id, article.language)
    return after_change(request, context, article)


@router.post("/articles/{article_id}/proposal/reject")
async def reject_proposal(
    article_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    article, _ = await editable(db, actor, article_id)
    await editing.reject(db, actor, article_id)
    context = await docs_context(request, db, actor, article.video_id, article.language)
    return after_change(request, context, article)
