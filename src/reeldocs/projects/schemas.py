from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    org_id: uuid.UUID | None = None


class ProjectRename(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class ProjectOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    org_id: uuid.UUID
