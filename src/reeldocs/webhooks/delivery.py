"""One attempt at delivering a webhook, made by a worker of the webhooks queue.

The attempt holds its delivery's row lock from the moment it reads the row to the moment
it records what happened: a second worker given the same delivery meanwhile (a
redelivery, a retried engine job) skips it, so an event reaches an endpoint once per
attempt, and once it answered 2xx no automatic attempt follows. Each attempt signs the
body afresh (receivers refuse stale timestamps) under the delivery's one webhook-id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from standardwebhooks.webhooks import Webhook

from reeldocs.core.settings import Settings
from reeldocs.metrics import store as metrics
from reeldocs.webhooks import outbox, targets
from reeldocs.webhooks.targets import HostNotFound, Target, TargetRefused

_logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
# Waits after each failed attempt: nine attempts over a little more than 26 hours, so an
# endpoint down for a day still gets the event.
RETRY_DELAYS: tuple[int, ...] = (30, 120, 600, 3600, 3 * 3600, 6 * 3600, 8 * 3600, 8 * 3600)
MAX_ERROR_LENGTH = 500
USER_AGENT = "Reeldocs-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    result: str  # one of metrics.DELIVERY_RESULTS
    status_code: int | None = None
    error: str | None = None


def event_body(
    event: str, event_at: datetime, payload: Mapping[str, Any], links: Mapping[str, str]
) -> str:
    """The request body: the same bytes at every attempt of one delivery."""
    return json.dumps(
        {
            "type": event,
            "timestamp": event_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": dict(payload),
            "links": dict(links),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt, signed at `now`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


async def _post_to_checked_address(target: Target, body: str, headers: dict[str, str]) -> int:
    """POST to the addresses that were checked, never to the name (which could resolve
    elsewhere by now), presenting the name in Host and, over TLS, in SNI and the
    certificate check. Redirects are not followed: they would lead past the check."""
    host_header = target.url.netloc.decode("ascii")
    extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
    failure: httpx.TransportError | None = None
    async with httpx.AsyncClient(
        trust_env=False, follow_redirects=False, timeout=TIMEOUT_SECONDS
    ) as client:
        for address in target.addresses:
            request = client.build_request(
                "POST",
                target.url.copy_with(host=str(address)),
                content=body.encode(),
                headers={**headers, "host": host_header},
                extensions=extensions,
            )
            try:
                # The answer's status is all that counts: its body is never read.
                response = await client.send(request, stream=True)
            except httpx.ConnectError as error:
                failure = error
                continue
            await response.aclose()
            return response.status_code
    assert failure is not None
    raise failure


async def send(
    url: str, secret: str, message_id: str, body: str, *, allow_private: bool
) -> Outcome:
    """One signed attempt, given up after 10 s in all (resolving the host included)."""
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            target = await targets.check(targets.parse_url(url), allow_private=allow_private)
            headers = signed_headers(secret, message_id, body, datetime.now(UTC))
            status = await _post_to_checked_address(target, body, headers)
    except HostNotFound as missing:
        return Outcome("failed", error=missing.detail)
    except TargetRefused as refused:
        return Outcome("refused", error=refused.detail)
    except TimeoutError:
        return Outcome("failed", error=f"No answer within {TIMEOUT_SECONDS:g} seconds.")
    except httpx.HTTPError as error:
        reason = str(error) or type(error).__name__
        return Outcome("failed", error=f"The request failed: {reason}"[:MAX_ERROR_LENGTH])
    if 200 <= status < 300:
        return Outcome("delivered", status_code=status)
    return Outcome("failed", status_code=status, error=f"The endpoint answered {status}.")


_LOCK_DELIVERY = sa.text(
    """
    SELECT d.id, d.status, d.attempts, d.message_id, d.event, d.job_id,
           e.url, e.secret, ev.payload, ev.created_at AS event_at, ev.project_id
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint_id
    JOIN job_events ev ON ev.id = d.event_id
    WHERE d.id = :id
    FOR UPDATE OF d SKIP LOCKED
    """
)


def _links(settings: Settings, row: Mapping[str, Any]) -> dict[str, str]:
    base = settings.base_url(f"http://{settings.host}:{settings.port}")
    return {
        "job": f"{base}/api/jobs/{row['job_id']}",
        "page": f"{base}/projects/{row['project_id']}/jobs/{row['job_id']}",
    }


async def attempt(
    engine: AsyncEngine, settings: Settings, delivery_id: uuid.UUID, *, manual: bool
) -> Outcome | None:
    """Make one attempt; None when there was nothing to do (delivered already, another
    worker at it, the endpoint deleted). `manual`: a person asked for a redelivery."""
    async with engine.begin() as conn:
        found = (await conn.execute(_LOCK_DELIVERY, {"id": delivery_id})).mappings().first()
        row: dict[str, Any] | None = None if found is None else dict(found)
        if row is None or (not manual and row["status"] != "pending"):
            return None
        body = event_body(row["event"], row["event_at"], row["payload"], _links(settings, row))
        outcome = await send(
            row["url"],
            row["secret"],
            row["message_id"],
            body,
            allow_private=settings.webhook_allow_private,
        )
        await _record(conn, row, outcome, manual=manual)
    _logger.info(
        "webhook %s (%s) attempt %d: %s%s",
        row["message_id"],
        row["event"],
        row["attempts"] + 1,
        outcome.result,
        f" ({outcome.error})" if outcome.error else "",
    )
    return outcome


async def _record(
    conn: AsyncConnection, row: Mapping[str, Any], outcome: Outcome, *, manual: bool
) -> None:
    await metrics.add(conn, metrics.WEBHOOK_DELIVERIES, {"result": outcome.result})
    attempts = row["attempts"] + 1
    values = {
        "id": row["id"],
        "attempts": attempts,
        "code": outcome.status_code,
        "error": outcome.error,
    }
    if outcome.result == "delivered":
        await conn.execute(
            sa.text(
                """
                UPDATE webhook_deliveries
                SET status = 'delivered', attempts = :attempts, last_status_code = :code,
                    last_error = NULL, last_attempt_at = now(), delivered_at = now(),
                    next_attempt_at = NULL, queue_job_id = NULL
                WHERE id = :id
                """
            ),
            values,
        )
        return
    await conn.execute(
        sa.text(
            """
            UPDATE webhook_deliveries
            SET attempts = :attempts, last_status_code = :code, last_error = :error,
                last_attempt_at = now()
            WHERE id = :id
            """
        ),
        values,
    )
    if manual:
        # A redelivery is one attempt: a delivery still being retried keeps its schedule,
        # a delivered or failed one stays as it was.
        return
    if attempts > len(RETRY_DELAYS):
        await conn.execute(
            sa.text(
                "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, "
                "queue_job_id = NULL WHERE id = :id"
            ),
            values,
        )
        return
    next_at = (
        await conn.execute(
            sa.text(
                "UPDATE webhook_deliveries "
                "SET next_attempt_at = now() + make_interval(secs => :delay) "
                "WHERE id = :id RETURNING next_attempt_at"
            ),
            {**values, "delay": RETRY_DELAYS[attempts - 1]},
        )
    ).scalar_one()
    queue_job_id = await outbox.queue_attempt(conn, row["id"], at=next_at)
    await conn.execute(
        sa.text("UPDATE webhook_deliveries SET queue_job_id = :q WHERE id = :id"),
        {"q": queue_job_id, "id": row["id"]},
    )


async def requeue_stranded(engine: AsyncEngine) -> int:
    """Queue again the pending deliveries whose queued attempt is gone: its worker lost
    the database in the middle of it, so the engine ended the job with nothing recorded."""
    async with engine.begin() as conn:
        stranded = (
            await conn.execute(
                sa.text(
                    """
                    SELECT d.id, greatest(d.next_attempt_at, now()) AS at
                    FROM webhook_deliveries d
                    LEFT JOIN procrastinate_jobs q ON q.id = d.queue_job_id
                    WHERE d.status = 'pending'
                      AND (q.id IS NULL OR q.status::text NOT IN ('todo', 'doing'))
                    FOR UPDATE OF d SKIP LOCKED
                    """
                )
            )
        ).all()
        for delivery_id, at in stranded:
            queue_job_id = await outbox.queue_attempt(conn, delivery_id, at=at)
            await conn.execute(
                sa.text("UPDATE webhook_deliveries SET queue_job_id = :q WHERE id = :id"),
                {"q": queue_job_id, "id": delivery_id},
            )
    return len(stranded)
