from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from reeldocs.core.text import EMAIL_FIELD_PATTERN

MIN_PASSWORD_LENGTH = 8


# The shape of an address and a password's least length are checked by the service, which
# says what is wrong in a sentence; the document states them all the same.
def email_address() -> Any:
    return Field(
        max_length=320,
        json_schema_extra={"pattern": EMAIL_FIELD_PATTERN},
        description="An e-mail address, such as ada@example.com.",
    )


def new_password() -> Any:
    return Field(max_length=1024, json_schema_extra={"minLength": MIN_PASSWORD_LENGTH})


class SignupIn(BaseModel):
    email: str = email_address()
    password: str = new_password()
    name: str | None = Field(
        default=None,
        max_length=200,
        description="How others see you; defaults to the part of the address before the @.",
    )


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
    new_password: str = new_password()
