from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    org_id: uuid.UUID | None = None


class ProjectUpdate(BaseModel):
    """What PATCH /api/projects/{project_id} changes; what is left out stays as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    public_docs: bool | None = Field(
        default=None,
        description="true: the project's docs site (`public_url`) answers anyone, showing "
        "its published videos; false: only the team's members see it.",
    )


class ProjectOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    org_id: uuid.UUID
    public_docs: bool = Field(description="Whether the project's docs site answers anyone.")
    public_url: str = Field(
        description="The address of the project's docs site, from REELDOCS_PUBLIC_URL when "
        "set: open to anyone once `public_docs` is true, to the team's members before that."
    )
