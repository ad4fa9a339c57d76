from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["owner", "editor", "viewer"]


class OrgOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    role: str


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    role: str


class MemberIn(BaseModel):
    email: str = Field(max_length=320)
    role: Role


class RoleIn(BaseModel):
    role: Role


class InvitationOut(BaseModel):
    """What POST /api/orgs/{org_id}/members answers: an invitation, pending until accepted."""

    invitation_id: uuid.UUID
    email: str
    role: str
    status: Literal["pending"] = "pending"


class TeamInvitationOut(BaseModel):
    """A team's pending invitation, as its owners see it."""

    id: uuid.UUID
    email: str
    role: str
    created_at: datetime


class MyInvitationOut(BaseModel):
    """An invitation the caller received."""

    id: uuid.UUID
    org_id: uuid.UUID
    org_name: str
    role: str
    invited_by: str | None  # the inviting owner's name or address, while they have an account
    created_at: datetime


class AcceptedOut(BaseModel):
    org_id: uuid.UUID
    role: str
