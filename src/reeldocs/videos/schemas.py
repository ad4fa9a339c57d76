from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

VideoStatus = Literal["uploading", "uploaded", "processing", "ready", "failed"]


class VideoOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    slug: str = Field(
        description="Unique within the project; chosen from the title at upload and kept "
        "when the title changes. Names the video's folder in exports."
    )
    status: VideoStatus
    duration_seconds: float | None
    size_bytes: int | None
    source_language: str | None
    languages_ready: list[str] = Field(
        description="Languages whose articles are published for the video's current docs."
    )
    published: bool = Field(
        description="Shown on its project's docs site once it has docs, and while it is "
        "regenerated (the site shows its current docs until the new ones are complete)."
    )
    created_at: datetime
    mime: str | None = Field(description="What the file really is, found by reading it.")
    codecs: dict[str, Any] = Field(
        description="Container, video and audio codecs, picture size, frame rate, rotation."
    )


class VideoUpdate(BaseModel):
    """What PATCH /api/videos/{video_id} changes; what is left out stays as it is."""

    title: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The video's title; its slug (and so its addresses) stays as it was.",
    )
    published: bool | None = Field(
        default=None, description="Show the video on its project's docs site, or stop."
    )


# What POST /api/projects/{project_id}/videos accepts; parsed by hand, as it streams.
UPLOAD_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The video: MP4, MOV, WebM or MKV.",
                    },
                    "title": {
                        "type": "string",
                        "maxLength": 200,
                        "description": "Defaults to the file name without its extension.",
                    },
                },
            }
        }
    },
}
