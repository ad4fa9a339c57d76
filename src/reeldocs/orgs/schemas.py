from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, Field

from reeldocs.auth.schemas import email_address

Role = Literal["owner", "editor", "viewer"]
# A role as answered: read from the database, where it is one of Role's values.
RoleName = Annotated[str, Field(json_schema_extra={"enum": list(get_args(Role))})]


class OrgOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    role: RoleName


SLUG_MAX_LENGTH = 60


class OrgUpdate(BaseModel):
    """What PATCH /api/orgs/{org_id} changes: the team's name, its slug, or both."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(
        default=None,
        min_length=1,
        max_length=SLUG_MAX_LENGTH,
        description="Lowercase letters, digits and single hyphens, such as `acme-docs`: the "
        "team's part of its docs sites' addresses (`/p/{org_slug}/{project_slug}/`) and of "
        "`reeldocs process --project`. Unique across the server.",
    )


class OrgInfo(BaseModel):
    id: uuid.UUID
    name: str
    slug: str


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    role: RoleName


class MemberIn(BaseModel):
    email: str = email_address()
    role: Role


class RoleIn(BaseModel):
    role: Role


class InvitationOut(BaseModel):
    """What POST /api/orgs/{org_id}/members answers: an invitation, pending until accepted."""

    invitation_id: uuid.UUID
    email: str
    role: RoleName
    status: Literal["pending"] = "pending"


class TeamInvitationOut(BaseModel):
    """A team's pending invitation, as its owners see it."""

    id: uuid.UUID
    email: str
    role: RoleName
    created_at: datetime


class MyInvitationOut(BaseModel):
    """An invitation the caller received."""

    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    role: RoleName
    invited_by: str | None  # the inviting owner's name or address, while they have an account
    created_at: datetime


class AcceptedOut(BaseModel):
    org_id: uuid.UUID
    role: RoleName
