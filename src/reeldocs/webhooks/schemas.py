from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

EventName = Literal["job.completed", "job.failed", "job.cancelled"]
EVENTS: tuple[str, ...] = ("job.completed", "job.failed", "job.cancelled")
DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookIn(BaseModel):
    url: str = Field(
        max_length=2000,
        description="Where the events are sent: an http or https address of a public host.",
        examples=["https://example.com/reeldocs-hooks"],
    )
    events: list[EventName] | None = Field(
        default=None,
        min_length=1,
        description="The events to send; default: all of them.",
    )


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventName]
    created_at: datetime


class WebhookCreated(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventName]
    secret: str = Field(
        description="whsec_ and the base64 key the requests are signed with. Shown this once."
    )


class DeliveryOut(BaseModel):
    id: uuid.UUID
    event: EventName
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None
    created_at: datetime
