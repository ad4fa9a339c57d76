"""A project's webhook endpoints and their deliveries, as owners and editors manage them.

Reads and writes run as the requesting user, so the policies apply (viewers see no
endpoint). Finding which team an endpoint belongs to, and queueing a redelivery, step
out to the service role, after which the app-level checks say 404 or 403 as for
anything else of a team.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from reeldocs.core.db import as_service
from reeldocs.core.deps import Actor
from reeldocs.core.errors import Forbidden, NotFound
from reeldocs.core.settings import Settings
from reeldocs.orgs.access import require_member
from reeldocs.orgs.models import WRITER_ROLES
from reeldocs.projects import service as projects
from reeldocs.webhooks import outbox, targets
from reeldocs.webhooks.schemas import EVENTS, DeliveryOut, WebhookCreated, WebhookOut

NOT_FOUND = "This webhook does not exist, or it belongs to another team."
VIEWERS_REFUSED = (
    "Only the team's owners and editors see and manage its webhooks: ask an owner to make "
    "you an editor."
)
RECENT_DELIVERIES = 50


def new_secret() -> str:
    """whsec_ and 32 random bytes in base64, as the Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


async def _require_manager(session: AsyncSession, actor: Actor, org_id: uuid.UUID) -> None:
    role = await require_member(session, actor, org_id, "project")
    if role not in WRITER_ROLES:
        raise Forbidden(VIEWERS_REFUSED)


async def create(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    project_id: uuid.UUID,
    *,
    url: str,
    events: list[str] | None,
) -> WebhookCreated:
    project = await projects.get(session, actor, project_id)
    await _require_manager(session, actor, project.org_id)
    parsed = targets.parse_url(url)
    if not settings.webhook_allow_private:
        try:
            await targets.check(parsed, allow_private=False)
        except targets.HostNotFound:
            # Offline, or a name not published yet: every attempt checks it again.
            pass
    chosen = [event for event in EVENTS if events is None or event in events]
    webhook_id = uuid.uuid4()
    secret = new_secret()
    await session.execute(
        sa.text(
            "INSERT INTO webhook_endpoints (id, org_id, project_id, url, events, secret) "
            "VALUES (:id, :org, :project, :url, :events, :secret)"
        ),
        {
            "id": webhook_id,
            "org": project.org_id,
            "project": project.id,
            "url": str(parsed),
            "events": chosen,
            "secret": secret,
        },
    )
    return WebhookCreated.model_validate(
        {"id": webhook_id, "url": str(parsed), "events": chosen, "secret": secret}
    )


async def list_for_project(
    session: AsyncSession, actor: Actor, project_id: uuid.UUID
) -> list[WebhookOut]:
    project = await projects.get(session, actor, project_id)
    await _require_manager(session, actor, project.org_id)
    rows = await session.execute(
        sa.text(
            "SELECT id, url, events, created_at FROM webhook_endpoints "
            "WHERE project_id = :project ORDER BY created_at, id"
        ),
        {"project": project.id},
    )
    return [WebhookOut.model_validate(dict(row)) for row in rows.mappings()]


async def _endpoint(session: AsyncSession, actor: Actor, webhook_id: uuid.UUID) -> dict[str, Any]:
    """The endpoint, once the caller is an owner or editor of its team (404 for another
    team's, 403 for a viewer of its own)."""
    async with as_service(session):
        row = (
            (
                await session.execute(
                    sa.text("SELECT id, org_id, project_id FROM webhook_endpoints WHERE id = :id"),
                    {"id": webhook_id},
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(NOT_FOUND)
    role = await require_member(session, actor, row["org_id"], "webhook")
    if role not in WRITER_ROLES:
        raise Forbidden(VIEWERS_REFUSED)
    return dict(row)


async def delete(session: AsyncSession, actor: Actor, webhook_id: uuid.UUID) -> None:
    await _endpoint(session, actor, webhook_id)
    await session.execute(
        sa.text("DELETE FROM webhook_endpoints WHERE id = :id"), {"id": webhook_id}
    )


async def list_deliveries(
    session: AsyncSession, actor: Actor, webhook_id: uuid.UUID, limit: int = RECENT_DELIVERIES
) -> list[DeliveryOut]:
    await _endpoint(session, actor, webhook_id)
    rows = await session.execute(
        sa.text(
            "SELECT id, event, status, attempts, last_status_code, next_attempt_at, created_at "
            "FROM webhook_deliveries WHERE endpoint_id = :id "
            "ORDER BY created_at DESC, id LIMIT :limit"
        ),
        {"id": webhook_id, "limit": limit},
    )
    return [DeliveryOut.model_validate(dict(row)) for row in rows.mappings()]


async def redeliver(
    session: AsyncSession, actor: Actor, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> None:
    """Queue one more attempt now, under the delivery's own webhook-id."""
    await _endpoint(session, actor, webhook_id)
    found = (
        await session.execute(
            sa.text("SELECT id FROM webhook_deliveries WHERE id = :id AND endpoint_id = :endpoint"),
            {"id": delivery_id, "endpoint": webhook_id},
        )
    ).first()
    if found is None:
        raise NotFound("This delivery does not exist, or it belongs to another webhook.")
    async with as_service(session):
        await outbox.queue_attempt(await session.connection(), delivery_id, manual=True)
