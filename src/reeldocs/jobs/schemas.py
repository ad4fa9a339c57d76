from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, Field

from reeldocs.core.errors import ErrorOut


class ProcessIn(BaseModel):
    video_id: uuid.UUID = Field(validation_alias=AliasChoices("video_id", "videoId"))
    languages: list[str] = Field(min_length=1, max_length=20)
    source_language: str | None = Field(
        default=None, validation_alias=AliasChoices("source_language", "sourceLanguage")
    )


class ProcessConflictOut(ErrorOut):
    """A refusal to process a video, naming the job that is already at work on it."""

    job_id: uuid.UUID | None = Field(
        default=None, description="The video's active job; null while the video uploads."
    )


class ProcessOut(BaseModel):
    job_id: uuid.UUID
    jobId: uuid.UUID  # noqa: N815 - the original product's clients read this name


class JobOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    video_id: uuid.UUID
    video_title: str
    status: str
    step: str
    step_message: str
    progress: float
    error_message: str | None
    failed_step: str | None
    languages: list[str]
    language_results: dict[str, Any]
    attempt: int
    retry_of: uuid.UUID | None
    providers: dict[str, Any]
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class JobRef(BaseModel):
    job_id: uuid.UUID


class CancelOut(BaseModel):
    job_id: uuid.UUID
    status: str
