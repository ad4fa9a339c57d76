"""What the docs API answers and accepts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from reeldocs.docs.editing_limits import (
    MAX_MARKDOWN_CHARACTERS,
    MAX_SEGMENT_CHARACTERS,
    MAX_TITLE_CHARACTERS,
)

RevisionSource = Literal["generated", "edited", "restored", "accepted", "translated"]


class SegmentOut(BaseModel):
    id: uuid.UUID
    start_time: float
    end_time: float
    spoken_content: str
    visual_context: str
    edited: bool = Field(description="A person corrected its text.")


class ArticleOut(BaseModel):
    id: uuid.UUID
    video_id: uuid.UUID
    title: str
    slug: str
    language: str
    chapter_title: str
    order: int
    content_markdown: str
    edited: bool = Field(description="A person changed it since it was generated.")
    has_proposal: bool = Field(
        description="A later job offers new text for it: GET …/proposal shows it as a diff."
    )
    stale: bool = Field(
        description="A translation made before its primary article or the transcript changed: "
        "POST /api/videos/{video_id}/retranslate translates it again."
    )
    updated_at: datetime


# The service checks these itself, with a sentence naming what is wrong; the document
# states them.
class ArticleChange(BaseModel):
    title: str | None = Field(
        default=None,
        json_schema_extra={
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARACTERS},
                {"type": "null"},
            ]
        },
        description="The new title, on one line; left out: unchanged.",
    )
    content_markdown: str | None = Field(
        default=None,
        json_schema_extra={
            "anyOf": [
                {"type": "string", "maxLength": MAX_MARKDOWN_CHARACTERS},
                {"type": "null"},
            ]
        },
        description="The new Markdown body; left out: unchanged.",
    )


class RevisionOut(BaseModel):
    revision: int
    source: RevisionSource
    author_email: str | None = Field(
        description="Who saved it; null for what a job wrote, or someone no longer in the team."
    )
    created_at: datetime


class RevisionTextOut(RevisionOut):
    title: str
    content_markdown: str


class ProposalOut(BaseModel):
    title: str
    content_markdown: str
    job_id: uuid.UUID | None = Field(description="The job that wrote it.")
    diff: str = Field(
        description="A unified diff from the article's current Markdown to the proposal's."
    )


class SegmentChange(BaseModel):
    spoken_content: str = Field(
        json_schema_extra={"maxLength": MAX_SEGMENT_CHARACTERS},
        description="What is said in the segment, as it should read.",
    )
