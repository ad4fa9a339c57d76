from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class SignupIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    name: str | None = Field(default=None, max_length=200)


class SignupOut(BaseModel):
    user_id: uuid.UUID
    org_id: uuid.UUID


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class LoginOut(BaseModel):
    user_id: uuid.UUID


class SessionOut(BaseModel):
    user_id: uuid.UUID
    email: str
    name: str
    # What cookie-authenticated form posts and scripts send as X-CSRF-Token (null for tokens).
    csrf_token: str | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TokenCreated(BaseModel):
    id: uuid.UUID
    name: str
    token: str


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)
