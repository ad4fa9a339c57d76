"""An article's history: its revisions (who saved each, when, how it came to be), one
revision read and compared with the current text, and restoring it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from reeldocs.core.deps import CurrentActor, DbSession
from reeldocs.docs import editing
from reeldocs.pages.article_pages import editable
from reeldocs.pages.diffs import diff_lines
from reeldocs.pages.docs_viewer import docs_url
from reeldocs.pages.markdown import SCREENSHOT_REFERENCE, PageImages, render_article
from reeldocs.pages.rendering import render
from reeldocs.pages.screenshot_sizes import screenshot_sizes
from reeldocs.pages.video_pages import video_context

router = APIRouter(include_in_schema=False)

SOURCE_LABELS = {
    "generated": "Generated",
    "edited": "Edited",
    "restored": "Restored from an earlier revision",
    "accepted": "Accepted from a later run",
    "translated": "Translated",
}
RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
# The revision's own headings sit below the page's "The text of revision N" (an h2).
REVISION_TEXT_LEVEL = 2


def _author(source: str, email: str | None) -> str:
    if email is not None:
        return email
    if source in ("generated", "translated", "accepted"):
        return "Reeldocs"
    return "Someone no longer in the team"


@router.get("/articles/{article_id}/revisions")
async def revisions_page(
    article_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    article = await editing.get(db, actor, article_id)
    context = await video_context(db, actor, article.video_id)
    current = (article.title, article.content_markdown)
    context.update(
        {
            "article": article,
            "docs_link": docs_url(article.video_id, article.language, article.slug),
            "revisions": [
                {
                    "number": found.revision,
                    "source": SOURCE_LABELS.get(found.source, found.source),
                    "author": _author(found.source, found.author_email),
                    "created_at": found.created_at,
                    "current": (found.title, found.content_markdown) == current,
                }
                for found in await editing.revisions(db, actor, article_id)
            ],
        }
    )
    return render(request, "pages/revisions.html", context)


@router.get("/articles/{article_id}/revisions/{revision}")
async def revision_page(
    article_id: uuid.UUID,
    revision: RevisionNumber,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
) -> Response:
    article = await editing.get(db, actor, article_id)
    found = await editing.revision(db, actor, article_id, revision)
    context = await video_context(db, actor, article.video_id)
    video = context["video"]
    shown = (m.group(1) for m in SCREENSHOT_REFERENCE.finditer(found.content_markdown))
    sizes = (
        await screenshot_sizes(db, request.app.state.storage, video.id, video.docs_run_id, shown)
        if video.docs_run_id is not None
        else {}
    )
    context.update(
        {
            "article": article,
            "revision": found,
            "source": SOURCE_LABELS.get(found.source, found.source),
            "author": _author(found.source, found.author_email),
            "docs_link": docs_url(article.video_id, article.language, article.slug),
            "is_current": (found.title, found.content_markdown)
            == (article.title, article.content_markdown),
            # what restoring it would do to the current text
            "rows": diff_lines(article.content_markdown, found.content_markdown),
            "html": render_article(
                found.content_markdown,
                video.id,
                found.title,
                heading_level=REVISION_TEXT_LEVEL,
                images=PageImages(sizes),
            ),
        }
    )
    return render(request, "pages/revision.html", context)


@router.post("/articles/{article_id}/revisions/{revision}/restore")
async def restore_revision(
    article_id: uuid.UUID,
    revision: RevisionNumber,
    actor: CurrentActor,
    db: DbSession,
) -> Response:
    """The revision's title and text become the article's again, as a new revision; on to
    the article in the docs."""
    await editable(db, actor, article_id)
    restored = await editing.restore(db, actor, article_id, revision)
    url = docs_url(restored.video_id, restored.language, restored.slug)
    return RedirectResponse(url, status_code=303)
