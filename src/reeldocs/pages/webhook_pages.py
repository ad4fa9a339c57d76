"""A project's webhooks page: its endpoints (the secret shown once, when one is added),
their recent deliveries with a Redeliver button, and deleting an endpoint."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import act_as_user
from reeldocs.core.deps import Actor, AppSettings, CurrentActor, DbSession
from reeldocs.core.errors import ReeldocsError
from reeldocs.pages.rendering import render
from reeldocs.projects import service as projects
from reeldocs.webhooks import service as webhooks
from reeldocs.webhooks.schemas import EVENTS

router = APIRouter(include_in_schema=False)

DELIVERIES_SHOWN = 10


async def _page(
    request: Request,
    db: AsyncSession,
    actor: Actor,
    project_id: uuid.UUID,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    new_secret: str | None = None,
    new_url: str | None = None,
) -> Response:
    project = await projects.get(db, actor, project_id)
    hooks = await webhooks.list_for_project(db, actor, project_id)
    return render(
        request,
        "pages/project_webhooks.html",
        {
            "project": project,
            "webhooks": hooks,
            "deliveries_by_webhook": {
                hook.id: await webhooks.list_deliveries(db, actor, hook.id, DELIVERIES_SHOWN)
                for hook in hooks
            },
            "events": EVENTS,
            "error": error,
            "notice": notice,
            "new_secret": new_secret,
            "new_url": new_url,
        },
        status=status,
    )


@router.get("/projects/{project_id}/webhooks")
async def webhooks_page(
    project_id: uuid.UUID, request: Request, actor: CurrentActor, db: DbSession
) -> Response:
    return await _page(request, db, actor, project_id)


@router.post("/projects/{project_id}/webhooks")
async def add_webhook(
    project_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
    url: Annotated[str, Form(max_length=2000)] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    chosen = [event for event in events or [] if event in EVENTS]
    try:
        if not chosen:
            from reeldocs.core.errors import Invalid

            raise Invalid("Tick at least one event to send.")
        created = await webhooks.create(db, actor, settings, project_id, url=url, events=chosen)
    except ReeldocsError as error:
        if error.status in (403, 404):
            raise
        # Whatever the failed change did is undone before the page is shown again.
        await db.rollback()
        await db.begin()
        await act_as_user(db, actor.user_id)
        return await _page(request, db, actor, project_id, status=error.status, error=error.detail)
    # Shown on this answer only: the page never shows it again.
    return await _page(
        request, db, actor, project_id, new_secret=created.secret, new_url=created.url
    )


@router.post("/projects/{project_id}/webhooks/{webhook_id}/delete")
async def delete_webhook(
    project_id: uuid.UUID, webhook_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> Response:
    await webhooks.delete(db, actor, webhook_id)
    return RedirectResponse(f"/projects/{project_id}/webhooks", status_code=303)


@router.post("/projects/{project_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    project_id: uuid.UUID,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    db: DbSession,
) -> Response:
    await webhooks.redeliver(db, actor, webhook_id, delivery_id)
    return await _page(
        request,
        db,
        actor,
        project_id,
        notice="The delivery is queued: it is sent again in a moment, with the same webhook-id.",
    )
