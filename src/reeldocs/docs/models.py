from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from reeldocs.core.db import Base


class Chapter(Base):
    __tablename__ = "chapters"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    language: Mapped[str]
    order: Mapped[int]
    title: Mapped[str]
    start_time: Mapped[float] = mapped_column(server_default="0")


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    chapter_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    language: Mapped[str]
    order: Mapped[int]
    title: Mapped[str]
    slug: Mapped[str]
    content_markdown: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="draft")
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    # A person changed it since it was generated: regenerating proposes instead of replacing.
    edited: Mapped[bool] = mapped_column(server_default=sa.false())
    # A translation made before its primary article or the transcript changed.
    stale: Mapped[bool] = mapped_column(server_default=sa.false())
    # Goes up with each change of title or text: the ETag a save is checked against.
    version: Mapped[int] = mapped_column(server_default="1")
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    # The text a later job offers for an edited article, until a person decides.
    proposal_title: Mapped[str | None]
    proposal_markdown: Mapped[str | None]
    proposal_job_id: Mapped[uuid.UUID | None]
    proposal_created_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ArticleRevision(Base):
    """One text an article had; revision 1 is what the pipeline generated."""

    __tablename__ = "article_revisions"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    article_id: Mapped[uuid.UUID]
    revision: Mapped[int]
    source: Mapped[str]
    author_id: Mapped[uuid.UUID | None]
    job_id: Mapped[uuid.UUID | None]
    title: Mapped[str]
    content_markdown: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class Subtitle(Base):
    __tablename__ = "subtitles"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    language: Mapped[str]
    cues: Mapped[list[Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )


class Screenshot(Base):
    __tablename__ = "screenshots"

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    org_id: Mapped[uuid.UUID]
    video_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    name: Mapped[str]
    time_seconds: Mapped[float]
    storage_path: Mapped[str]
    scene_index: Mapped[int | None]
    scene_end: Mapped[float | None]
    scene_text: Mapped[str] = mapped_column(server_default="")
    scene_title: Mapped[str] = mapped_column(server_default="")
