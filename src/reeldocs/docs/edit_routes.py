"""The editing API: articles with their revisions and proposals, transcript segments, and
re-translating a video's docs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response

from reeldocs.core.deps import CurrentActor, DbSession
from reeldocs.core.openapi import errors
from reeldocs.docs import editing, transcript
from reeldocs.docs import service as docs
from reeldocs.docs.schemas import (
    ArticleChange,
    ArticleOut,
    ProposalOut,
    RevisionOut,
    RevisionTextOut,
    SegmentChange,
    SegmentOut,
)

router = APIRouter(prefix="/api", tags=["editing"])

_WITH_ETAG: dict[int | str, Any] = {
    200: {
        "headers": {
            "ETag": {
                "description": "The article's version: send it back as `If-Match` when saving.",
                "schema": {"type": "string"},
            }
        }
    }
}
RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="1 is the generated text.")]


def _answer(view: Any, response: Response) -> ArticleOut:
    response.headers["ETag"] = editing.etag(view)
    response.headers["Cache-Control"] = "private, no-cache"
    return editing.out(view)


@router.get("/articles/{article_id}", response_model=ArticleOut, responses=_WITH_ETAG)
async def get_article(
    article_id: uuid.UUID, actor: CurrentActor, db: DbSession, response: Response
) -> ArticleOut:
    return _answer(await editing.get(db, actor, article_id), response)


@router.patch(
    "/articles/{article_id}",
    response_model=ArticleOut,
    responses={**_WITH_ETAG, **errors(403, 412)},
)
async def update_article(
    article_id: uuid.UUID,
    change: ArticleChange,
    actor: CurrentActor,
    db: DbSession,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(description="The ETag of the version this change was made to; 412 if stale."),
    ] = None,
) -> ArticleOut:
    """Change the title, the Markdown, or both; each change becomes a revision."""
    view = await editing.update(
        db,
        actor,
        article_id,
        title=change.title,
        markdown=change.content_markdown,
        if_match=if_match,
    )
    return _answer(view, response)


@router.get("/articles/{article_id}/revisions", response_model=list[RevisionOut])
async def list_revisions(
    article_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> list[RevisionOut]:
    """Newest first."""
    return [
        RevisionOut.model_validate(r, from_attributes=True)
        for r in await editing.revisions(db, actor, article_id)
    ]


@router.get("/articles/{article_id}/revisions/{revision}", response_model=RevisionTextOut)
async def get_revision(
    article_id: uuid.UUID, revision: RevisionNumber, actor: CurrentActor, db: DbSession
) -> RevisionTextOut:
    found = await editing.revision(db, actor, article_id, revision)
    return RevisionTextOut.model_validate(found, from_attributes=True)


@router.post(
    "/articles/{article_id}/revisions/{revision}/restore",
    response_model=ArticleOut,
    responses={**_WITH_ETAG, **errors(403)},
)
async def restore_revision(
    article_id: uuid.UUID,
    revision: RevisionNumber,
    actor: CurrentActor,
    db: DbSession,
    response: Response,
) -> ArticleOut:
    """The revision's title and text become the article's again, as a new revision."""
    return _answer(await editing.restore(db, actor, article_id, revision), response)


@router.get("/articles/{article_id}/proposal", response_model=ProposalOut)
async def get_proposal(article_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> ProposalOut:
    """What a later job offers instead of the edited text; 404 when it offers nothing."""
    return ProposalOut.model_validate(
        await editing.proposal(db, actor, article_id), from_attributes=True
    )


@router.post(
    "/articles/{article_id}/proposal/accept",
    response_model=ArticleOut,
    responses={**_WITH_ETAG, **errors(403)},
)
async def accept_proposal(
    article_id: uuid.UUID, actor: CurrentActor, db: DbSession, response: Response
) -> ArticleOut:
    return _answer(await editing.accept(db, actor, article_id), response)


@router.post("/articles/{article_id}/proposal/reject", status_code=204, responses=errors(403))
async def reject_proposal(article_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> Response:
    await editing.reject(db, actor, article_id)
    return Response(status_code=204)


@router.patch("/segments/{segment_id}", response_model=SegmentOut, responses=errors(403))
async def update_segment(
    segment_id: uuid.UUID, change: SegmentChange, actor: CurrentActor, db: DbSession
) -> SegmentOut:
    """Correct what the segment says. The subtitles in the spoken language follow at once;
    the translations become stale (POST /api/videos/{video_id}/retranslate)."""
    segment = await transcript.edit_segment(db, actor, segment_id, change.spoken_content)
    return SegmentOut(**docs.segment_out(segment))
