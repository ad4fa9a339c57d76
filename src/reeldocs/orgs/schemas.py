from __future__ import annotations

import uuid
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
