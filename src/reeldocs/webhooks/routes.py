from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from reeldocs.core.deps import AppSettings, CurrentActor, DbSession
from reeldocs.core.openapi import errors
from reeldocs.webhooks import service
from reeldocs.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

router = APIRouter(prefix="/api", tags=["webhooks"])


# 422 also for an address that is not public (unless REELDOCS_WEBHOOK_ALLOW_PRIVATE=true)
@router.post(
    "/projects/{project_id}/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=errors(403, 404),
)
async def create_webhook(
    project_id: uuid.UUID,
    body: WebhookIn,
    actor: CurrentActor,
    db: DbSession,
    settings: AppSettings,
) -> WebhookCreated:
    return await service.create(
        db,
        actor,
        settings,
        project_id,
        url=body.url,
        events=list(body.events) if body.events is not None else None,
    )


@router.get(
    "/projects/{project_id}/webhooks",
    response_model=list[WebhookOut],
    responses=errors(403, 404),
)
async def list_webhooks(
    project_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> list[WebhookOut]:
    return await service.list_for_project(db, actor, project_id)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=errors(403, 404))
async def delete_webhook(webhook_id: uuid.UUID, actor: CurrentActor, db: DbSession) -> Response:
    await service.delete(db, actor, webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    responses=errors(403, 404),
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    actor: CurrentActor,
    db: DbSession,
    limit: int = Query(default=50, ge=1, le=200),
) -> list[DeliveryOut]:
    return await service.list_deliveries(db, actor, webhook_id, limit)


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses={202: {"description": "The attempt is queued."}, **errors(403, 404)},
)
async def redeliver(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, actor: CurrentActor, db: DbSession
) -> Response:
    await service.redeliver(db, actor, webhook_id, delivery_id)
    return Response(status_code=202)
