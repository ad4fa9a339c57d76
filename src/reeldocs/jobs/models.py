from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from reeldocs.core.db import Base

# The status values as strings, for queries; jobs.lifecycle.JobStatus names them and
# owns every change between them.
ACTIVE_STATUSES = ("pending", "processing")
JOB_STATUSES = ("pending", "processing", "completed", "failed", "retried", "cancelled")


class ProcessingJob(Base):
    __tablename__ = "processing_jobs"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    # "process": the whole pipeline; "retranslate": the docs' translations only
    kind: Mapped[str] = mapped_column(server_default="process")
    status: Mapped[str] = mapped_column(server_default="pending")
    step: Mapped[str] = mapped_column(server_default="uploading")
    step_message: Mapped[str] = mapped_column(server_default="Waiting for a worker")
    progress: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4), server_default="0")
    error_message: Mapped[str | None]
    failed_step: Mapped[str | None]
    languages: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    source_language: Mapped[str | None]
    language_results: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    providers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    attempt: Mapped[int] = mapped_column(server_default="1")
    retry_of: Mapped[uuid.UUID | None]
    run_id: Mapped[uuid.UUID]
    queue_job_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    video_status_before: Mapped[str]
    cancel_requested: Mapped[bool] = mapped_column(server_default=sa.false())
    lease: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), server_onupdate=sa.FetchedValue()
    )


class JobEvent(Base):
    """What happened to a job when it finished: an outbox others read in id order."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    org_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID]
    job_id: Mapped[uuid.UUID]
    type: Mapped[str]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
