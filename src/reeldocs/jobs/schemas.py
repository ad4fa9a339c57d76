from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, Field

from reeldocs.core.errors import ErrorOut
from reeldocs.core.text import LANGUAGE_CODE_FIELD_PATTERN

# The values of lifecycle.JobStatus (which reads this module, so cannot be read here).
JOB_STATUSES = ("pending", "processing", "completed", "failed", "retried", "cancelled")
JobStatusName = Annotated[str, Field(json_schema_extra={"enum": list(JOB_STATUSES)})]
JobKind = Annotated[str, Field(json_schema_extra={"enum": ["process", "retranslate"]})]

# Codes of GET /api/languages; the service checks them against what this server offers.
_LANGUAGE_CODE: dict[str, Any] = {"type": "string", "pattern": LANGUAGE_CODE_FIELD_PATTERN}


class ProcessIn(BaseModel):
    video_id: uuid.UUID = Field(validation_alias=AliasChoices("video_id", "videoId"))
    languages: list[str] = Field(
        min_length=1,
        max_length=20,
        description="Language codes, each once: the docs' language first (one that GET "
        "/api/languages marks primary), then translations (marked translate).",
        json_schema_extra={"items": _LANGUAGE_CODE, "uniqueItems": True},
    )
    source_language: str | None = Field(
        default=None,
        validation_alias=AliasChoices("source_language", "sourceLanguage"),
        description="What is spoken (one GET /api/languages marks spoken); default: "
        "detected when the speech model can, else en.",
        json_schema_extra={"anyOf": [_LANGUAGE_CODE, {"type": "null"}]},
    )


class RetranslateIn(BaseModel):
    languages: list[str] | None = Field(
        default=None,
        description="The translations to make again, from the docs' current primary text; "
        "default: every language with stale articles.",
        json_schema_extra={
            "anyOf": [
                {"type": "array", "items": _LANGUAGE_CODE, "minItems": 1, "maxItems": 20},
                {"type": "null"},
            ]
        },
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
    status: JobStatusName
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
    kind: JobKind = Field(
        default="process",
        description="`process`: the whole pipeline; `retranslate`: the docs' translations "
        "only (steps `translating_<lang>`, `subtitles`).",
    )


class JobRef(BaseModel):
    job_id: uuid.UUID


class CancelOut(BaseModel):
    job_id: uuid.UUID
    status: JobStatusName
