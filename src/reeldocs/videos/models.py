from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from reeldocs.core.db import Base

VIDEO_STATUSES = ("uploading", "uploaded", "processing", "ready", "failed")


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID]
    title: Mapped[str]
    # Picked from the first title and kept when the title changes: exports and links use it.
    slug: Mapped[str] = mapped_column(server_default=sa.FetchedValue())
    status: Mapped[str] = mapped_column(server_default="uploading")
    storage_path: Mapped[str | None]
    mime: Mapped[str | None]
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    duration_seconds: Mapped[float | None]
    codecs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    source_language: Mapped[str | None]
    docs_run_id: Mapped[uuid.UUID | None]
    # Shown on its project's docs site (once it has docs, and while it is regenerated).
    published: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), server_onupdate=sa.FetchedValue()
    )


class VideoSegment(Base):
    __tablename__ = "video_segments"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    order: Mapped[int]
    start_time: Mapped[float]
    end_time: Mapped[float]
    spoken_content: Mapped[str] = mapped_column(server_default="")
    visual_context: Mapped[str] = mapped_column(server_default="")
    words: Mapped[list[Any]] = mapped_column(JSONB, server_default="[]")
    # A person corrected it: its text survives regeneration over its time span.
    edited: Mapped[bool] = mapped_column(server_default=sa.false())
