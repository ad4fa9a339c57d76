"""A video's page: player, transcript (its segments correctable by editors and owners), job
history and exports. The docs viewer is `docs_viewer`."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.deps import Actor, CurrentActor, DbSession
from reeldocs.core.errors import Invalid, NotFound
from reeldocs.docs import service as docs
from reeldocs.docs import transcript
from reeldocs.jobs import service as jobs
from reeldocs.orgs.access import get_in_team, require_member, require_writer
from reeldocs.orgs.models import WRITER_ROLES
from reeldocs.pages.job_views import language_choices
from reeldocs.pages.project_pages import JOB_HELPERS
from reeldocs.pages.rendering import is_htmx, render
from reeldocs.projects import service as projects
from reeldocs.videos import service as videos
from reeldocs.videos.models import Video, VideoSegment

router = APIRouter(include_in_schema=False)

# A refusal that comes with the segment's editor to show again, its sentence in it: the
# page's script swaps it in where it swaps no other error.
REFUSAL_HEADERS = {"X-Reeldocs-Refusal": "shown"}

# A video in these states may be (re)processed from its page.
PROCESSABLE = ("uploaded", "ready", "failed")


async def video_context(db: AsyncSession, actor: Actor, video_id: uuid.UUID) -> dict[str, Any]:
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


@dataclass
class SegmentRow:
    """One line of the transcript as the page shows it, or its editor."""

    id: uuid.UUID
    start_time: float
    end_time: float
    spoken_content: str
    visual_context: str
    # what is on screen is said once, where it changes
    show_visual: bool
    edited: bool
    editing: bool = False
    draft: str = ""
    error: str | None = None


def segment_rows(segments: list[VideoSegment]) -> list[SegmentRow]:
    rows = []
    previous = None
    for segment in segments:
        rows.append(
            SegmentRow(
                id=segment.id,
                start_time=segment.start_time,
                end_time=segment.end_time,
                spoken_content=segment.spoken_content,
                visual_context=segment.visual_context,
                show_visual=bool(segment.visual_context)
                and (previous is None or previous.visual_context != segment.visual_context),
                edited=segment.edited,
            )
        )
        previous = segment
    return rows


def _open_editor(row: SegmentRow, draft: str | None = None, error: str | None = None) -> None:
    row.editing = True
    row.draft = row.spoken_content if draft is None else draft
    row.error = error


@router.get("/videos/{video_id}")
async def video_page(
    video_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    segment: uuid.UUID | None = None,
) -> Response:
    """The video's page; `segment` opens that segment's editor (the way in without the
    page's script)."""
    context = await video_context(db, actor, video_id)
    if context["can_write"] and context["video"].status in PROCESSABLE:
        context["language_options"] = await language_choices(request.app.state.settings)
    rows = segment_rows(await docs.segments(db, actor, video_id))
    if segment is not None:
        await require_writer(db, actor, context["video"].org_id, "video")
        _open_editor(_row(rows, segment))
    context["segments"] = rows
    context["history"] = await jobs.video_job_history(db, actor, video_id)
    context.update(JOB_HELPERS)
    return render(request, "pages/video.html", context)


# ---- correcting the transcript ----


def _row(rows: list[SegmentRow], segment_id: uuid.UUID) -> SegmentRow:
    for row in rows:
        if row.id == segment_id:
            return row
    raise NotFound(transcript.NO_SUCH_SEGMENT)


async def _segment_page(
    db: AsyncSession, actor: Actor, segment_id: uuid.UUID
) -> tuple[dict[str, Any], list[SegmentRow], SegmentRow]:
    """The segment's video as its page shows it, with the transcript and the segment's row;
    only segments of the docs the video shows have a row."""
    segment = await get_in_team(db, actor, VideoSegment, segment_id, "segment")
    context = await video_context(db, actor, segment.video_id)
    rows = segment_rows(await docs.segments(db, actor, segment.video_id))
    return context, rows, _row(rows, segment_id)


def _segment_answer(
    request: Request, context: dict[str, Any], row: SegmentRow, *, status: int = 200
) -> Response:
    return render(
        request,
        "partials/segment.html",
        {**context, "segment": row},
        status=status,
        fragment=True,
        headers=REFUSAL_HEADERS if status >= 400 else None,
    )


def _segment_url(video: Video, row: SegmentRow, *, editing: bool = False) -> str:
    return f"/videos/{video.id}" + (f"?segment={row.id}" if editing else "") + f"#segment-{row.id}"


@router.get("/segments/{segment_id}")
async def segment_line(
    segment_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    """The segment's line of the transcript (what Cancel puts back in place of its editor)."""
    context, _, row = await _segment_page(db, actor, segment_id)
    if not is_htmx(request):
        return RedirectResponse(_segment_url(context["video"], row), status_code=303)
    return _segment_answer(request, context, row)


@router.get("/segments/{segment_id}/edit")
async def segment_editor(
    segment_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    context, _, row = await _segment_page(db, actor, segment_id)
    await require_writer(db, actor, context["video"].org_id, "video")
    if not is_htmx(request):
        return RedirectResponse(_segment_url(context["video"], row, editing=True), status_code=303)
    _open_editor(row)
    return _segment_answer(request, context, row)


@router.post("/segments/{segment_id}")
async def save_segment(
    segment_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    spoken_content: Annotated[str, Form()] = "",
) -> Response:
    """Save a corrected segment. The page's player is told to load the subtitles in the
    spoken language again: they were rebuilt from the transcript with the correction."""
    context, rows, row = await _segment_page(db, actor, segment_id)
    video: Video = context["video"]
    text = spoken_content.replace("\r\n", "\n")
    try:
        saved = await transcript.edit_segment(db, actor, segment_id, text)
    except Invalid as error:
        _open_editor(row, text, error.detail)
        if not is_htmx(request):
            context.update(JOB_HELPERS)
            context["segments"] = rows
            context["history"] = await jobs.video_job_history(db, actor, video.id)
            return render(request, "pages/video.html", context, status=error.status)
        return _segment_answer(request, context, row, status=error.status)
    if not is_htmx(request):
        return RedirectResponse(_segment_url(video, row), status_code=303)
    row.spoken_content, row.edited = saved.spoken_content, saved.edited
    changed = {"reeldocs:subtitles-changed": {"language": video.source_language}}
    response = _segment_answer(request, context, row)
    response.headers["HX-Trigger"] = json.dumps(changed)
    return response
